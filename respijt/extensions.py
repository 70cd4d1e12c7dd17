"""Unbound extension objects, bound to the app in create_app().

The flask-smorest Api is made per app in respijt.api (its spec holds per-app state).
"""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from respijt.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
