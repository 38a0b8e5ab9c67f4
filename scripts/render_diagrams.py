"""Render each shipped BPMN process to a PNG with bpmn-js in headless Chromium (for the README).

    python scripts/render_diagrams.py [--out docs/images]

Uses the vendored bpmn-js viewer (webapp/static/vendor) and Debian's chromium through Playwright.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "webapp" / "static" / "vendor"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def page_html(xml: str) -> str:
    viewer = (VENDOR / "bpmn-js" / "bpmn-viewer.production.min.js").read_text()
    css = "".join((VENDOR / "bpmn-js" / name).read_text() for name in ("diagram-js.css", "bpmn-js.css"))
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><style>{css}
html, body, #canvas {{ margin: 0; width: 100%; height: 100%; background: white; }}</style></head>
<body><div id="canvas"></div><script>{viewer}</script><script>
window.viewer = new BpmnJS({{ container: '#canvas' }});
viewer.importXML({json.dumps(xml)}).then(() => {{
  viewer.get('canvas').zoom('fit-viewport', 'auto'); document.body.dataset.ready = 'yes';
}}).catch(e => {{ document.body.dataset.ready = 'error:' + e.message; }});
</script></body></html>"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for bpmn in sorted((ROOT / "process_library").glob("*.bpmn")):
            page = browser.new_page(viewport={"width": 1800, "height": 900})
            page.on("pageerror", lambda error, name=bpmn.name: print(f"{name}: {error}"))
            page.set_content(page_html(bpmn.read_text()))
            page.wait_for_function("() => document.body.dataset.ready !== undefined", timeout=60_000)
            state = page.evaluate("document.body.dataset.ready")
            if state != "yes":
                raise SystemExit(f"{bpmn.name}: {state}")
            inner = page.evaluate("(() => { const b = viewer.get('canvas').viewbox().inner; "
                                  "return [b.width, b.height]; })()")
            width = int(min(max(inner[0] * 0.75, 900), 2600))
            height = int(max(width * inner[1] / max(inner[0], 1), 300)) + 40
            page.set_viewport_size({"width": width, "height": height})
            page.evaluate("(() => { const c = viewer.get('canvas'); c.resized(); c.zoom('fit-viewport', 'auto'); })()")
            target = args.out / f"{bpmn.stem}.png"
            page.screenshot(path=str(target), full_page=False)
            print(f"rendered {target.relative_to(ROOT)}")
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
