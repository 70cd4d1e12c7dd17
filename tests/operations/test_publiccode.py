"""What an operator or a catalogue reads first: publiccode.yml (standard v0.4) and LICENSE."""

from __future__ import annotations

import configparser
import os
from datetime import date

import yaml

from respijt import PROJECT_ROOT

SOFTWARE_TYPES = {
    "standalone/mobile",
    "standalone/iot",
    "standalone/desktop",
    "standalone/web",
    "standalone/backend",
    "standalone/other",
    "addon",
    "library",
    "configurationFiles",
}
STATUSES = {"concept", "development", "beta", "stable", "obsolete"}
MAINTENANCE = {"internal", "contract", "community", "none"}


def _setup_cfg() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(os.path.join(PROJECT_ROOT, "setup.cfg"))
    return parser


def test_publiccode_yml_parses_and_has_the_required_keys():
    with open(os.path.join(PROJECT_ROOT, "publiccode.yml"), encoding="utf-8") as f:
        code = yaml.safe_load(f)
    required = {
        "publiccodeYmlVersion",
        "name",
        "url",
        "platforms",
        "categories",
        "developmentStatus",
        "softwareType",
        "description",
        "legal",
        "maintenance",
        "localisation",
    }
    assert required <= code.keys()
    assert code["publiccodeYmlVersion"] == "0.4"
    assert code["url"].startswith("https://")
    assert "web" in code["platforms"] and code["categories"]
    assert code["developmentStatus"] in STATUSES
    assert code["softwareType"] in SOFTWARE_TYPES
    metadata = _setup_cfg()["metadata"]
    assert code["softwareVersion"] == metadata["version"]
    assert code["legal"]["license"] == metadata["license"] == "EUPL-1.2"
    date.fromisoformat(code["releaseDate"])
    assert set(code["description"]) == {"nl", "en"}
    for language, text in code["description"].items():
        assert 0 < len(text["shortDescription"]) <= 150, language
        assert 150 <= len(text["longDescription"]) <= 10000, language
        assert text["features"] and all(isinstance(f, str) for f in text["features"])
    maintenance = code["maintenance"]
    assert maintenance["type"] in MAINTENANCE
    if maintenance["type"] in ("internal", "community"):
        assert maintenance["contacts"] and all(c["name"] for c in maintenance["contacts"])
    assert isinstance(code["localisation"]["localisationReady"], bool)
    assert code["localisation"]["availableLanguages"] == ["nl"]


def test_the_licence_is_the_eupl_1_2_with_its_appendix():
    with open(os.path.join(PROJECT_ROOT, "LICENSE"), encoding="utf-8") as f:
        text = f.read()
    assert text.startswith("EUROPEAN UNION PUBLIC LICENCE v. 1.2\n")
    assert "15.Applicable Law" in text
    assert "‘Compatible Licences’ according to Article 5 EUPL are:" in text
    assert "— European Union Public Licence (EUPL) v. 1.1, v. 1.2" in text
