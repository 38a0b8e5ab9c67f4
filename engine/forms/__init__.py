"""Forms: the form library (JSON Schema files named by user tasks), validation of submitted answers
against a form, filtering task data through a form, and the versions of each form kept in the database.
"""

from .library import FormDefinition, FormLibrary, check_form_file, content_hash
from .validation import filter_data, raise_if_invalid, submitted_data, validate_form_data
from .versions import definition_of, get_form_version, latest_form_version, register_form_version

__all__ = [
    "FormDefinition",
    "FormLibrary",
    "check_form_file",
    "content_hash",
    "definition_of",
    "filter_data",
    "get_form_version",
    "latest_form_version",
    "raise_if_invalid",
    "register_form_version",
    "submitted_data",
    "validate_form_data",
]
