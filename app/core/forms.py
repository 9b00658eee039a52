"""Form pieces shared by every domain: GOV.UK widgets, time fields, service errors onto fields."""

from __future__ import annotations

import re
from datetime import time

from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovSelect, GovTextInput
from markupsafe import Markup
from wtforms import DateField, Field, SelectChoice, StringField
from wtforms.validators import ValidationError as FieldError
from wtforms.widgets import Select

from app.core.errors import ValidationError
from app.extensions import db

_TIME = re.compile(r"^\s*(\d{1,2})(?:[:.](\d{2}))?\s*([ap]\.?m\.?)?\s*$", re.IGNORECASE)


def parse_time(text: str) -> time:
    """'14:00', '2pm', '2.30pm', '2.30 p.m.' -> a time of day."""
    match = _TIME.match(text or "")
    if not match:
        raise ValueError("Enter a time like 14:00 or 2pm")
    hour, minute = int(match[1]), int(match[2] or 0)
    suffix = (match[3] or "").lower().replace(".", "")
    if suffix:
        if not 1 <= hour <= 12:
            raise ValueError("Enter a time like 14:00 or 2pm")
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ValueError("Enter a real time of day")
    return time(hour, minute)


class TimeOfDayField(StringField):
    """A time typed as people write it; `data` is a datetime.time or None."""

    widget = GovTextInput()

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        if not self.raw.strip():
            self.data = None
            return
        try:
            self.data = parse_time(self.raw)
        except ValueError as exc:
            self.data = None
            raise FieldError(str(exc)) from None

    def _value(self):
        if getattr(self, "raw", None) is not None:
            return self.raw
        return self.data.strftime("%H:%M") if isinstance(self.data, time) else ""


def expected_version(value: str | None) -> int | None:
    """The version a form was loaded at (a hidden field), for optimistic locking. Missing means
    no check; anything but a number (a tampered form) can match no version, so it is refused
    as a conflict rather than skipping the check or failing."""
    if not value:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0  # versions start at 1


def apply_service_errors(form, exc: ValidationError) -> list[str]:
    """Show a service's refusal on the fields it names; returns what belongs to no field, for
    the top of the page. What the refused attempt changed is rolled back at once: the page is
    drawn from what is stored, and the request keeps nothing of the attempt."""
    db.session.rollback()
    placed, unplaced = False, []
    for name, messages in exc.errors.items():
        field: Field | None = getattr(form, name, None)
        if isinstance(field, Field):
            field.errors = list(field.errors or []) + list(messages)
            placed = True
        else:
            unplaced.extend(f"{name}: {m}" if name.startswith("line") else m for m in messages)
    if not placed and not unplaced:
        unplaced.append(exc.detail)
    return unplaced


class DateInput(GovDateInput):
    """The GOV.UK day/month/year boxes, with two corrections to the upstream widget: the boxes
    take their ids from the field's id, not its name, so a page may hold several forms with
    the same field (one end-date form per membership); and `required` goes on the boxes, not
    on the wrapping div, where HTML does not allow it."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        if "value" not in kwargs:
            kwargs["value"] = field._value()
        required = bool(kwargs.pop("required", "required" in getattr(field, "flags", [])))
        params = self.map_gov_params(field, **kwargs)
        for item, part in zip(params["items"], ("day", "month", "year"), strict=True):
            item["id"] = f"{params['id']}-{part}"
            if required:
                item.setdefault("attributes", {})["required"] = "required"
        return self.render(params)


class GovDateField(DateField):
    """A GOV.UK day/month/year date. An absent or blank date is no date (the widget cannot
    redraw an empty submission); a partly filled one is an error."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", "%d %m %Y")
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        parts = [v.strip() for v in valuelist]
        if not any(parts):
            self.raw_data = None
            self.data = None
            return
        self.raw_data = [*parts, "", "", ""][:3]
        if not all(self.raw_data):
            self.data = None
            raise FieldError("Enter the day, month and year")
        try:
            super().process_formdata([" ".join(self.raw_data)])
        except ValueError:
            raise FieldError("Enter a real date, for example 17 7 2013") from None


class GroupedGovSelect(GovSelect):
    """A GOV.UK select whose choices may carry an optgroup (SelectChoice(..., optgroup=...)).
    The GOV.UK macro draws flat options only, so it draws the label, hint, error and an empty
    select, and WTForms' own option rendering fills it in, groups and all."""

    def __call__(self, field, **kwargs):
        markup = super().__call__(field, **kwargs)
        if not field.has_groups():
            return markup
        html = str(markup)  # plain text from here, or the options would be escaped
        options = []
        for group, choices in field.iter_groups():
            drawn = "".join(Select.render_option(c) for c in choices)
            if group is None:
                options.append(drawn)
            else:
                options.append(f'<optgroup label="{Markup.escape(group)}">{drawn}</optgroup>')
        start = html.index(">", html.index("<select")) + 1
        end = html.index("</select>")
        return Markup(html[:start] + "".join(options) + html[end:])


def picker_choices(groups, prompt: str) -> list[SelectChoice]:
    """Choices for a GroupedGovSelect from (group label, people) pairs, the prompt first."""
    return [SelectChoice("", prompt)] + [
        SelectChoice(str(p.id), p.display_name, optgroup=label)
        for label, people in groups
        for p in people
    ]
