// EduCase: draw each process diagram on the page with the bpmn-js viewer (loaded before this module as
// window.BpmnJS) and outline its steps: done (green), current (blue), failed (red).
//
// A diagram is a <div class="educase-diagram" data-diagram-url="..." data-completed='["id", ...]'
// data-current='[...]' data-failed='[...]'>. The BPMN file comes from the server (same origin, the
// session cookie); the highlighting uses the viewer's own API (canvas.addMarker) and classes styled in
// educase-casework.css, so no inline script or style is needed (the CSP allows neither).
// When it is drawn, the container gets data-diagram-state="ready" (or "failed").

const MARKERS = [
  ["completed", "educase-step--done"],
  ["current", "educase-step--current"],
  ["failed", "educase-step--failed"],
];

function ids(container, name) {
  try {
    const value = JSON.parse(container.dataset[name] || "[]");
    return Array.isArray(value) ? value.filter((id) => typeof id === "string") : [];
  } catch {
    return [];
  }
}

function say(container, text) {
  const message = container.querySelector(".educase-diagram__message");
  if (message) {
    message.textContent = text;
  }
}

async function draw(container) {
  if (typeof window.BpmnJS !== "function") {
    container.dataset.diagramState = "failed";
    say(container, "The diagram cannot be shown in this browser. The steps are listed on this page.");
    return;
  }
  try {
    const response = await fetch(container.dataset.diagramUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/xml" },
    });
    if (!response.ok) {
      throw new Error(`the diagram could not be loaded (${response.status})`);
    }
    const xml = await response.text();
    const message = container.querySelector(".educase-diagram__message");
    if (message) {
      message.remove();
    }
    const viewer = new window.BpmnJS({ container });
    await viewer.importXML(xml);
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    for (const [name, marker] of MARKERS) {
      for (const id of ids(container, name)) {
        if (registry.get(id)) {
          canvas.addMarker(id, marker);
        }
      }
    }
    canvas.zoom("fit-viewport", "auto");
    const svg = container.querySelector("svg");
    if (svg) {
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", container.closest("figure")?.querySelector("figcaption")?.textContent.trim() || "Process diagram");
    }
    container.dataset.diagramState = "ready";
  } catch (error) {
    container.dataset.diagramState = "failed";
    say(container, "The diagram could not be drawn. The steps are listed on this page.");
    console.error("EduCase diagram:", error);
  }
}

for (const container of document.querySelectorAll(".educase-diagram[data-diagram-url]")) {
  draw(container);
}
