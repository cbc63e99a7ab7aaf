// A Plotly chart that stays mounted and is updated in place (see live_chart.py).
// Called by Streamlit on the first draw and on every rerun, with the same parent element.
const SELECTION_EMPTY = (revision) => ({ revision, points: [], box: [], lasso: [] });

function plotly(src) {
  // plotly.js once per page, from the app's own server (no CDN: classrooms are offline)
  if (!window.__crmPlotly) {
    window.__crmPlotly = new Promise((resolve, reject) => {
      if (window.Plotly) return resolve(window.Plotly);
      const script = document.createElement("script");
      script.src = src;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => { window.__crmPlotly = null; reject(new Error(src)); };
      document.head.appendChild(script);
    });
  }
  return window.__crmPlotly;
}

function lassoOf(path) {
  // a lasso region as Plotly writes it ("M1,2L3,4L5,6Z") as its corners' x and y
  const x = [], y = [];
  for (const pair of path.replace(/[MZ]/g, "").split("L")) {
    const [a, b] = pair.split(",").map(Number);
    if (Number.isFinite(a) && Number.isFinite(b)) { x.push(a); y.push(b); }
  }
  return { x, y };
}

function selectionOf(event, revision) {
  // the shape st.plotly_chart returns: the points picked and every box and lasso drawn
  const out = SELECTION_EMPTY(revision);
  out.points = (event.points || []).map((p) => ({ x: p.x, y: p.y, customdata: p.customdata }));
  const regions = event.selections || [];
  for (const s of regions) {
    if (s.type === "rect") out.box.push({ x: [s.x0, s.x1], y: [s.y0, s.y1] });
    else if (s.type === "path" && s.path) out.lasso.push(lassoOf(s.path));
  }
  if (!regions.length && event.range) out.box.push({ x: event.range.x, y: event.range.y });
  if (!regions.length && event.lassoPoints) out.lasso.push(event.lassoPoints);
  return out;
}

export default function (component) {
  const { parentElement, data, setStateValue } = component;
  let div = parentElement.querySelector(".crm-live-chart");
  if (!div) {
    div = document.createElement("div");
    div.className = "crm-live-chart";
    div.setAttribute("data-testid", "crmLiveChart");
    parentElement.appendChild(div);
  }
  if (div.__crmRevision === data.revision) return; // the same figure: keep what is drawn
  plotly(data.src).then((Plotly) => {
    const figure = JSON.parse(data.figure);
    Plotly.react(div, figure.data, figure.layout, data.config).then(() => {
      div.__crmRevision = data.revision;
      div.__crmDraws = (div.__crmDraws || 0) + 1;
    });
    if (!div.__crmListening) {
      div.__crmListening = true;
      div.on("plotly_selected", (event) => {
        if (event) setStateValue("selection", selectionOf(event, div.__crmRevision));
      });
      div.on("plotly_deselect", () => setStateValue("selection", SELECTION_EMPTY(div.__crmRevision)));
    }
  });
}
