"""A developer-field registry for one decode: fitparse's rules, without its process-global ``DEV_TYPES``.

fitparse 1.2 keeps the developer fields a file describes in a module-level dict that outlives the
file, so what one file decodes to can depend on the files read before it in the same process.
fastfit keeps one ``DevTypes`` per decode (the same as fitparse starting from an empty registry),
with fitparse's own checks and error texts (records.py ``add_dev_data_id``,
``add_dev_field_description``, ``get_dev_type``).
"""

from __future__ import annotations

from fitparse.records import BASE_TYPES, DevField
from fitparse.utils import FitParseError


class DevTypes:
    """Developer data ids and their field descriptions, as one file declares them."""

    def __init__(self) -> None:
        self.types: dict = {}

    def add_data_id(self, raw: dict) -> None:
        """A ``developer_data_id`` message (raw values by name)."""
        index = raw.get("developer_data_index")
        # nothing in the spec says overwriting an existing type is invalid (fitparse)
        self.types[index] = {"dev_data_index": index, "application_id": raw.get("application_id"), "fields": {}}

    def add_field(self, raw: dict) -> None:
        """A ``field_description`` message (raw values by name)."""
        index = raw.get("developer_data_index")
        num = raw.get("field_definition_number")
        if index not in self.types:
            raise FitParseError("No such dev_data_index=%s found" % (index))
        fields = self.types[int(index)]["fields"]
        fields[num] = DevField(dev_data_index=index, def_num=num, type=BASE_TYPES[raw.get("fit_base_type_id")],
                               name=raw.get("field_name") or "unnamed_dev_field_%s" % num,
                               units=raw.get("units"), native_field_num=raw.get("native_field_num"))

    def get(self, index: int, num: int) -> DevField:
        """The field ``num`` of developer ``index``; fitparse's error if it was never described."""
        if index not in self.types:
            raise FitParseError("No such dev_data_index=%s found when looking up field %s" % (index, num))
        if num not in self.types[index]["fields"]:
            raise FitParseError("No such field %s for dev_data_index %s" % (num, index))
        return self.types[index]["fields"][num]
