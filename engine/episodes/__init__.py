"""Episodes and copy-work: how a form's fields are bound to an episode's subject (:mod:`.binding`),
how a work item's data is carried into another episode (:mod:`.copying`), what callers are given back
(:mod:`.views`), and the episode templates shipped by default (``default_templates.json``).

The use cases live in :mod:`engine.services.episodes` and :mod:`engine.services.episode_templates`.
"""

from pathlib import Path

DEFAULT_TEMPLATES = Path(__file__).parent / "default_templates.json"
