"""Pupil tracking: the 2024 attendance codes, the compact mark store, importers, measures, reports
and demo data. Storage layout: :mod:`.layout`; DfE measures: :mod:`.measures`."""
