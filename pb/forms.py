"""The base classes of every form: text fields drop control characters as they are read.

A single-line field (``StringField`` and its kinds: e-mail, hidden, amounts …) turns line
breaks and tabs into a space and drops every other control character, so a title can never
carry a line break into an e-mail header, a CSV row or a log line. A ``TextAreaField``
keeps its line breaks (CR LF and CR become LF) and tabs and drops the other control
characters. Passwords are left exactly as typed. The filter runs before the field's own
filters (e.g. ``strip``) and validators, so length checks see the clean text. Every such
field also refuses the characters that reorder how text reads (``pb.text.DIRECTION_CONTROLS``),
with a message, after its own validators.

Forms subclass ``pb.forms.FlaskForm`` (or ``pb.forms.Form`` for sub-forms in a
``FormField``/``FieldList``) instead of Flask-WTF's and WTForms' own.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import flask_wtf
import wtforms
from babel import support
from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.i18n import messages_path
from wtforms.validators import StopValidation

from pb.i18n import locale_code
from pb.text import DIRECTION_CONTROLS

_BREAKS = re.compile(r"[\t\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x9f]")
_MULTI_CONTROLS = re.compile(r"[\x00-\x08\v\f\x0e-\x1f\x7f-\x9f]")


def single_line(value: Any) -> Any:
    """Line breaks and tabs become one space; other control characters are dropped."""
    if not isinstance(value, str):
        return value
    return _CONTROLS.sub("", _BREAKS.sub(" ", value))


def multi_line(value: Any) -> Any:
    """Line breaks (as LF) and tabs kept; other control characters dropped."""
    if not isinstance(value, str):
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.replace("\u2028", "\n").replace("\u2029", "\n\n")
    return _MULTI_CONTROLS.sub("", value)


def text_filter(field_class: type) -> Any:
    """The filter a field of this class gets, or None."""
    if issubclass(field_class, PasswordField):
        return None
    if issubclass(field_class, TextAreaField):
        return multi_line
    if issubclass(field_class, StringField):
        return single_line
    return None


DIRECTION_MESSAGE = _l(
    "Remove the invisible characters that change the direction of the text: they can make it "
    "read as something else."
)


def no_direction_controls(form: Any, field: Any) -> None:
    """Refuse text that carries bidirectional overrides, embeddings or isolates (and stop
    there: a field's own checks would only repeat the problem)."""
    if isinstance(field.data, str) and any(c in DIRECTION_CONTROLS for c in field.data):
        raise StopValidation(DIRECTION_MESSAGE)


class CleanTextMeta:
    """A WTForms ``Meta`` mixin: bind every text field with its control-character filter
    first in its filters, and :func:`no_direction_controls` last in its validators."""

    def bind_field(self, form: Any, unbound_field: UnboundField, options: dict[str, Any]) -> Any:
        clean = text_filter(unbound_field.field_class)
        if clean is not None:
            kwargs = unbound_field.kwargs
            options = {
                **options,
                "filters": [clean, *(kwargs.get("filters") or ())],
                "validators": [*(kwargs.get("validators") or ()), no_direction_controls],
            }
        return super().bind_field(form, unbound_field, options)  # type: ignore[misc]


@functools.cache
def _wtforms_catalogue(locale: str) -> support.NullTranslations:
    """WTForms' own messages in ``locale``: files installed with WTForms, read once."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class WTFormsMessages:
    """WTForms' own messages ("This field is required.") in the language of the request, as
    Flask-WTF's ``i18n.translations`` gives them, but with each language's catalogue read
    once per process: Flask-WTF reads and parses it from disk again in every request that
    makes a form (the comment form on every proposal page). Outside a request, as
    Flask-WTF: untranslated."""

    def gettext(self, string: str) -> str:
        if not has_request_context():
            return string
        return str(_wtforms_catalogue(locale_code()).ugettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if not has_request_context():
            return singular if n == 1 else plural
        return str(_wtforms_catalogue(locale_code()).ungettext(singular, plural, n))


WTFORMS_MESSAGES = WTFormsMessages()


# Flask-WTF and WTForms are untyped (Any to the checker), hence the ignores on their bases.
class FlaskForm(flask_wtf.FlaskForm):  # type: ignore[misc]
    class Meta(CleanTextMeta, flask_wtf.FlaskForm.Meta):  # type: ignore[misc]
        def get_translations(self, form: Any) -> Any:
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return WTFORMS_MESSAGES


class Form(wtforms.Form):  # type: ignore[misc]
    class Meta(CleanTextMeta, wtforms.meta.DefaultMeta):  # type: ignore[misc]
        pass


def _messages(errors: Any) -> list[str]:
    """The messages of a field's own errors (a sub-form's errors are dicts or lists)."""
    return [str(e) for e in errors or () if not isinstance(e, dict | list | tuple)]


def _joined(label: str, rest: str) -> str:
    """``label: rest``, or ``label rest`` where the label ends in its own punctuation: a
    question as a label reads "Which is your connection? Choose one…", not "…?: Choose…"."""
    label = label.rstrip()
    return f"{label} {rest}" if label.endswith(("?", "!", ".", ":")) else f"{label}: {rest}"


def error_links(form: Any) -> list[tuple[str, str]]:
    """(field id, text) for each field with an error, in the form's order, sub-forms (areas,
    phases …) included: the error summary links each message, after its field's label, to
    its field."""
    out: list[tuple[str, str]] = []

    def walk(fields: Any, within: str = "") -> None:
        for f in fields:
            label = _joined(within, str(f.label.text)) if within else str(f.label.text)
            if f.type == "FormField":
                walk(f.form, str(f.label.text))  # "Review: Ends", not just "Ends"
            elif f.type == "FieldList":
                out.extend((f.id, _joined(label, m)) for m in _messages(f.errors))
                for entry in f.entries:
                    # An entry may name itself (e.g. "#5 Cykelpump"); else the list's label.
                    named = getattr(entry, "summary_label", None) or str(f.label.text)
                    walk(entry.form if entry.type == "FormField" else [entry], named)
            else:
                # A group of choices links to its first box; other fields to themselves.
                target = f"{f.id}-0" if f.type in ("MultiCheckboxField", "RadioField") else f.id
                out.extend((target, _joined(label, m)) for m in _messages(f.errors))

    walk(form)
    return out


__all__ = ["FlaskForm", "Form", "error_links", "multi_line", "single_line"]
