// Translates Streamlit's and Plotly's own texts on a Chinese page (see widget_texts.py).
(() => {
  const root = window.parent && window.parent.document ? window.parent : window;
  root.__crmLang = __LANG__;
  if (root.__crmTexts) { root.__crmTexts.apply(); return; }
  const exact = __EXACT__;
  const patterns = __PATTERNS__.map(([re, to]) => [new RegExp(re), to]);
  const attrs = ["placeholder", "title", "aria-label", "data-title"];
  const originals = new Map();  // text node → its English text
  const zh = s => {
    const key = s.trim();
    if (!key) return null;
    if (Object.prototype.hasOwnProperty.call(exact, key)) return s.replace(key, exact[key]);
    for (const [re, to] of patterns) { if (re.test(key)) return s.replace(key, key.replace(re, to)); }
    return null;
  };
  const text = node => {
    if (root.__crmLang === "zh") {
      const to = zh(node.nodeValue);
      if (to !== null && to !== node.nodeValue) { originals.set(node, node.nodeValue); node.nodeValue = to; }
    }
  };
  const element = el => {
    for (const a of attrs) {
      const v = el.getAttribute && el.getAttribute(a);
      if (!v) continue;
      if (root.__crmLang === "zh") {
        const to = zh(v);
        if (to !== null && to !== v) { el.setAttribute("data-crm-" + a, v); el.setAttribute(a, to); }
      }
    }
  };
  const walk = top => {
    if (top.nodeType === 3) { text(top); return; }
    if (top.nodeType !== 1) return;
    element(top);
    const it = document.createTreeWalker(top, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    while (it.nextNode()) { const n = it.currentNode; n.nodeType === 3 ? text(n) : element(n); }
  };
  const restore = () => {
    for (const [node, was] of originals) node.nodeValue = was;
    originals.clear();
    for (const a of attrs) {
      document.querySelectorAll("[data-crm-" + a + "]").forEach(el => {
        el.setAttribute(a, el.getAttribute("data-crm-" + a)); el.removeAttribute("data-crm-" + a);
      });
    }
  };
  const apply = () => { if (root.__crmLang === "zh") walk(document.body); else restore(); };
  new MutationObserver(changes => {
    if (root.__crmLang !== "zh") return;
    for (const c of changes) {
      if (c.type === "characterData") text(c.target);
      else if (c.type === "attributes") element(c.target);
      else c.addedNodes.forEach(walk);
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true,
                             attributes: true, attributeFilter: attrs});
  root.__crmTexts = {apply};
  apply();
})();
