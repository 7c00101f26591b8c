"""Every list a model holds (a one-to-many or many-to-many relationship) is read in a set
order. PostgreSQL returns rows in no set order, and a row that is updated may come back in
another place; a list read in the order the disk gives changed between two reads on
PostgreSQL while SQLite kept it, and a page or a test that takes its first or last item
read the wrong one."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import configure_mappers

import tourism.models  # noqa: F401 (every model registered)
from tourism.extensions import db

pytestmark = pytest.mark.no_database


def test_every_list_relationship_has_an_order():
    configure_mappers()
    unordered = [
        f"{mapper.class_.__name__}.{relation.key}"
        for mapper in db.Model.registry.mappers
        for relation in mapper.relationships
        if relation.uselist and relation.direction.name != "MANYTOONE" and not relation.order_by
    ]
    assert unordered == []
