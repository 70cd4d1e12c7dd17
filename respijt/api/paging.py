"""Paging of the API's lists (NLGov): `page` (from 1) and `pageSize` in the query, and an answer
`{_links: {self, first, prev?, next?}, page, pageSize, items}` with HAL links that keep the
other query keys. `GET /reservations` started it; every list that can grow uses this module.
"""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import urlencode

import marshmallow as ma
from flask import request
from marshmallow import fields
from sqlalchemy import Select

from respijt.api.response_schemas import PageSchema
from respijt.api.schemas import PAGE_MAX as PAGE_MAX
from respijt.api.schemas import PageQuery as PageQuery

T = TypeVar("T")


_page_schemas: dict[type[ma.Schema], type[PageSchema]] = {}


def page_schema(item: type[ma.Schema]) -> type[PageSchema]:
    """The documented page of `item`s, named `<Item>Page` in the OpenAPI document."""
    if item not in _page_schemas:
        name = item.__name__.removesuffix("Schema") + "PageSchema"
        attrs = {"items": fields.List(fields.Nested(item), required=True)}
        _page_schemas[item] = type(name, (PageSchema,), attrs)
    return _page_schemas[item]


def link(args: dict[str, Any], page: int) -> dict[str, str]:
    """A HAL link to another page of the same list, with the same filters."""
    query = {
        key: value
        for key, value in request.args.items(multi=False)
        if key not in ("page", "pageSize")
    }
    query.update({"page": str(page), "pageSize": str(args["page_size"])})
    return {"href": f"{request.path}?{urlencode(query)}"}


def page_body(args: dict[str, Any], items: list[Any], has_next: bool) -> dict[str, Any]:
    page = args["page"]
    links = {"self": link(args, page), "first": link(args, 1)}
    if page > 1:
        links["prev"] = link(args, page - 1)
    if has_next:
        links["next"] = link(args, page + 1)
    return {"_links": links, "page": page, "pageSize": args["page_size"], "items": items}


def window(query: Select[Any], args: dict[str, Any]) -> Select[Any]:
    """The rows of the page, and one more to tell whether a next page exists."""
    size = args["page_size"]
    return query.limit(size + 1).offset((args["page"] - 1) * size)


def split(rows: list[T], args: dict[str, Any]) -> tuple[list[T], bool]:
    """(the page's rows, whether there is a next page) from `window`'s rows."""
    return rows[: args["page_size"]], len(rows) > args["page_size"]


def slice_page(rows: list[T], args: dict[str, Any]) -> tuple[list[T], bool]:
    """The page out of a whole (bounded) list that a room returns."""
    start = (args["page"] - 1) * args["page_size"]
    return split(rows[start : start + args["page_size"] + 1], args)
