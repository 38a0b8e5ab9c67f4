"""EduCase engine: the domain and the workflow runtime.

Importing this package opens nothing: no database, no scheduler, no files. The web app, the CLI and
workers build what they need from :mod:`engine.config` and :mod:`engine.db`.
"""
