"""`make demo`: prepare the demo database (engine.demo) and serve the app with its scheduler.

    python -m webapp.demo [--fresh] [--pupils N] [--port 5000]
"""

from __future__ import annotations

import os

from engine.demo import parse_args, prepare, walkthrough


def main() -> None:
    args = parse_args()
    ctx = prepare(fresh=args.fresh, pupils=args.pupils)
    os.environ.setdefault("EDUCASE_DEMO", "true")
    os.environ.setdefault("EDUCASE_SCHEDULER_ENABLED", "true")
    ctx.db.dispose()
    from . import create_app

    app = create_app()
    print(walkthrough(ctx.settings.database_url))
    print(f"EduCase is running on http://127.0.0.1:{args.port}/ (Ctrl-C to stop)")
    app.run(host="127.0.0.1", port=args.port, debug=False, use_reloader=False, threaded=True)


if __name__ == "__main__":
    main()
