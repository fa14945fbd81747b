"""A process's areas, phases and categories in one statement, for the pages that read all three.

``Contract.of(process)`` and the ballot read the three collections of a process; loaded
lazily they cost three ORM queries, the most expensive part of a cast after the process
itself (about 0.6 ms of CPU on SQLite, and three round trips on PostgreSQL). ``preload``
reads them with one Core ``UNION ALL`` (each part padded with NULLs to the same columns)
and puts them into the session as if the ORM had loaded them: persistent, clean objects
in the identity map (an object already there is used as it is), each collection in its
relationship's order. Changing one afterwards is flushed like any loaded object.
"""

from __future__ import annotations

import functools
import operator
import typing
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.instrumentation import manager_of_class

from pb.processes.models import Area, Category, Phase, Process

# (relationship on Process, model, the relationship's order)
COLLECTIONS: tuple[tuple[str, type[Any], tuple[str, ...]], ...] = (
    ("areas", Area, ("position", "id")),
    ("phases", Phase, ("starts_at", "id")),
    ("categories", Category, ("position", "id")),
)


@functools.cache
def _statement() -> tuple[sa.CompoundSelect[Any], list[list[tuple[str, int]]]]:
    """The statement, and for each part the attributes of its model with the index of
    their column in a row."""
    tables = [typing.cast(sa.Table, model.__table__) for _name, model, _order in COLLECTIONS]
    parts = []
    layout: list[list[tuple[str, int]]] = []
    for i, table in enumerate(tables):
        columns: list[Any] = [sa.literal(i).label("part")]
        mine: list[tuple[str, int]] = []
        mapper = sa.inspect(COLLECTIONS[i][1])
        for other in tables:
            for column in other.c:
                if other is table:
                    mine.append((mapper.get_property_by_column(column).key, len(columns)))
                value = column if other is table else sa.cast(sa.null(), column.type)
                columns.append(value.label(f"{other.name}_{column.name}"))
        parts.append(sa.select(*columns).where(table.c.process_id == sa.bindparam("process")))
        layout.append(mine)
    return sa.union_all(*parts), layout


def preload(session: Session, process: Process) -> None:
    """Load ``process.areas``, ``.phases`` and ``.categories`` with one statement, unless one
    of them is loaded already or the session has changes not yet flushed (then they load
    lazily as before, after the autoflush this statement would skip)."""
    unloaded = sa.inspect(process).unloaded
    if any(name not in unloaded for name, _model, _order in COLLECTIONS):
        return
    if session.new or session.dirty or session.deleted:
        return
    statement, layout = _statement()
    mappers, managers = _models()
    found: list[list[Any]] = [[] for _ in COLLECTIONS]
    for row in session.connection().execute(statement, {"process": process.id}):
        part = row[0]
        values = {key: row[i] for key, i in layout[part]}
        key = mappers[part].identity_key_from_primary_key([values["id"]])
        obj = session.identity_map.get(key)
        if obj is None:  # as the ORM loads a row: a persistent object with nothing changed
            obj = managers[part].new_instance()
            obj.__dict__.update(values)
            make_transient_to_detached(obj)
            session.add(obj)
        found[part].append(obj)
    for (name, _model, order), objects in zip(COLLECTIONS, found, strict=True):
        objects.sort(key=operator.attrgetter(*order))
        set_committed_value(process, name, objects)


@functools.cache
def _models() -> tuple[list[Any], list[Any]]:
    """Each collection's mapper and class manager (looked up once)."""
    models = [model for _name, model, _order in COLLECTIONS]
    return [sa.inspect(m) for m in models], [manager_of_class(m) for m in models]
