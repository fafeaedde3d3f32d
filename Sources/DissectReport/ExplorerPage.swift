import DissectAnalysis
import DissectCore
import Foundation

/// `explorer.html`: one self-contained page (its data, script and styles inline; no network, no
/// server) to browse a model's neurons: a label view, a neuron card, a text view and search with
/// LSTMVis-style select-and-match. The view lives in the URL fragment
/// (`#label=I-PER&neuron=13&method=sensitivity&color=activation&q=Paris&span=120-122`).
///
/// The DOM the tests and the benchmark drive: `button.label-button[data-label]` (aria-pressed),
/// `select#method`, `#neuron-table tr.neuron-row[data-neuron]`, `#card-title`, `#card-top-tokens li.top-token mark`,
/// `#card-profile`, `#card-distribution`, `#card-matches`, `select#color`, `#sentences span.token[data-token]`,
/// `input#search-input`, `#search-results`, `#match-results li.match[data-neuron]`;
/// `window.explorerReady` is true once the first view is drawn, `window.explorerLastRenderMilliseconds` times the last view change.
public enum ExplorerPage {
    /// The page for `data`. The JSON is embedded with every `<` escaped, so no word can close its script element.
    public static func html(_ data: ExplorerData) throws -> String {
        let json = try JSONOutput.string(data, style: .line).replacingOccurrences(of: "<", with: "\\u003c")
        let title = "dissect explorer: " + (data.name.map { "\($0) (\(data.model))" } ?? data.model) + " on " + data.data
        var page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
        page += "<title>\(SVGText.escape(title))</title>\n<style>\n\(css)</style>\n</head>\n<body>\n"
        page += body(title: title)
        page += "<script type=\"application/json\" id=\"explorer-data\">" + json + "</script>\n"
        page += "<script>\nconst PALETTE = " + palette + ";\n" + script + "</script>\n</body>\n</html>\n"
        return page
    }

    /// The report's diverging palette (SVGReport.color): white at 0 to deep red (+) or deep blue (−).
    static var palette: String {
        let p = SVGReport.positiveDeep, n = SVGReport.negativeDeep
        return "{positive: [\(Int(p.red)), \(Int(p.green)), \(Int(p.blue))], negative: [\(Int(n.red)), \(Int(n.green)), \(Int(n.blue))], missing: \"\(SVGReport.missingColor)\"}"
    }

    static func body(title: String) -> String {
        """
        <header>
        <h1>\(SVGText.escape(title))</h1>
        <p id="meta" class="meta"></p>
        <p id="notes" class="meta"></p>
        </header>
        <main>
        <nav aria-label="Labels"><h2>Labels</h2><div id="labels" role="toolbar" aria-label="Choose a label"></div>
        <p class="controls"><label for="method">Rank neurons by </label><select id="method"></select>
        <label for="color"> · colour tokens by </label><select id="color"><option value="activation">activation h</option><option value="contribution">contribution W·h to the label</option></select></p>
        </nav>
        <div class="columns">
        <section id="label-view" aria-labelledby="label-title"><h2 id="label-title">Label</h2><p id="label-summary" class="meta"></p>
        <div class="table-wrap"><table id="neuron-table"><thead><tr><th>rank</th><th>neuron</th><th>sensitivity s</th><th>interval</th><th>finding</th><th>drop alone (pts)</th></tr></thead><tbody></tbody></table></div></section>
        <section id="neuron-card" aria-labelledby="card-title"><h2 id="card-title">Neuron</h2><p id="card-summary" class="meta"></p>
        <h3>Sensitivity across labels, and its drop when ablated alone</h3><div class="table-wrap" id="card-profile"></div>
        <h3>Activation by label</h3><div class="table-wrap" id="card-distribution"></div>
        <h3>Top-activating tokens</h3><ol id="card-top-tokens" class="tokens-list"></ol>
        <h3>Most negative tokens</h3><ol id="card-bottom-tokens" class="tokens-list"></ol>
        <h3>Matched neurons in the other seeds</h3><div class="table-wrap" id="card-matches"></div>
        </section>
        </div>
        <section id="text-view" aria-labelledby="text-title"><h2 id="text-title">Text</h2>
        <p class="controls"><label for="text-neurons">Neurons shown (comma-separated): </label><input id="text-neurons" size="24"/>
        <span class="meta"> Click a token, then shift-click (or Shift+Enter) another in the same sentence, to select a span and find neurons that match it.</span></p>
        <div id="sentences"></div>
        <h3>Neurons whose activation matches the selected span</h3><p id="match-summary" class="meta">No span selected.</p><ol id="match-results"></ol>
        </section>
        <section id="search-view" aria-labelledby="search-title"><h2 id="search-title">Search</h2>
        <p class="controls"><label for="search-input">Word: </label><input id="search-input" size="20"/> <button id="search-button" type="button">Find</button></p>
        <p id="search-summary" class="meta"></p><div id="search-results"></div>
        </section>
        </main>

        """
    }

    static let css = """
    body { margin: 0; background: #ffffff; color: #222222; font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; }
    header, main { max-width: 1240px; margin: 0 auto; padding: 8px 16px; box-sizing: border-box; }
    h1 { font-size: 1.35em; margin: 0.4em 0 0.2em; overflow-wrap: anywhere; }
    h2 { font-size: 1.15em; margin: 0.8em 0 0.3em; }
    h3 { font-size: 0.98em; margin: 1em 0 0.3em; }
    .meta { color: #555555; font-size: 0.88em; margin: 0.2em 0; overflow-wrap: anywhere; }
    .columns { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 8px 24px; }
    @media (max-width: 1000px) { .columns { grid-template-columns: minmax(0, 1fr); } }
    #labels { display: flex; flex-wrap: wrap; gap: 6px; }
    button, select, input { font: inherit; }
    .label-button { border: 1px solid #888888; background: #f6f6f6; border-radius: 4px; padding: 2px 10px; cursor: pointer; }
    .label-button[aria-pressed="true"] { background: #2a5a8a; color: #ffffff; border-color: #2a5a8a; }
    :focus-visible { outline: 3px solid #e08a00; outline-offset: 1px; }
    .table-wrap { overflow-x: auto; max-width: 100%; }
    table { border-collapse: collapse; font-size: 13px; }
    th, td { border-bottom: 1px solid #dddddd; padding: 3px 5px; text-align: left; white-space: nowrap; }
    th { background: #f3f3f3; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; }
    tr.neuron-row { cursor: pointer; }
    tr.neuron-row[aria-selected="true"] td { background: #e8eef6; }
    .cell { display: inline-block; min-width: 3.4em; padding: 0 4px; border-radius: 3px; text-align: right; font-variant-numeric: tabular-nums; }
    .tokens-list { padding-left: 2em; font-size: 13px; }
    .tokens-list li { margin: 2px 0; }
    mark { background: #fde2a8; color: #222222; padding: 0 2px; border-radius: 2px; }
    .sentence { display: flex; flex-wrap: wrap; gap: 3px; margin: 8px 0; padding-bottom: 6px; border-bottom: 1px dotted #cccccc; }
    .token { display: inline-flex; flex-direction: column; align-items: center; padding: 2px 4px; border-radius: 3px; border: 1px solid #e2e2e2; cursor: pointer; min-width: 2.2em; }
    .token .word { font-weight: 600; }
    .token small { font-size: 10.5px; color: #444444; font-variant-numeric: tabular-nums; }
    .token .value { border-radius: 2px; padding: 0 2px; }
    .token.found { border: 2px solid #222222; }
    .token.in-span { outline: 3px solid #e08a00; }
    .hist { display: inline-flex; align-items: flex-end; height: 22px; gap: 1px; vertical-align: middle; }
    .hist span { display: inline-block; width: 3px; background: #5b7fa6; }
    .note { color: #555555; font-size: 0.9em; }

    """

    static let script = #"""
    "use strict";
    (function () {
      const D = JSON.parse(document.getElementById("explorer-data").textContent);
      const n = D.neurons, m = D.labels.length, N = D.tokenCount;
      function bytes(text) {
        const binary = atob(text), out = new Uint8Array(binary.length);
        for (let k = 0; k < binary.length; k++) out[k] = binary.charCodeAt(k);
        return out;
      }
      const activations = new Int8Array(bytes(D.activations).buffer);
      const tokenWords = new Uint32Array(bytes(D.tokenWords).buffer);
      const gold = new Int8Array(bytes(D.gold).buffer), predicted = new Int8Array(bytes(D.predicted).buffer);
      const starts = D.sentenceStarts, sentenceCount = starts.length - 1;
      const scale = D.activationScale;
      const $ = (id) => document.getElementById(id);
      function h(t, i) { return activations[t * n + i] * scale[i]; }
      function word(t) { return D.words[tokenWords[t]]; }
      function labelName(index) { return index >= 0 && index < m ? D.labels[index] : "?"; }
      function fixed(value, digits) {
        if (value === null || value === undefined || !isFinite(value)) return "–";
        const text = value.toFixed(digits === undefined ? 2 : digits);
        return text.startsWith("-") ? "−" + text.slice(1) : text;
      }
      function escapeText(text) {
        return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
      }
      // The report's diverging palette: white at 0, deep red for +scale, deep blue for −scale; grey when undefined.
      function colour(value, range) {
        if (value === null || value === undefined || !isFinite(value)) return PALETTE.missing;
        const strength = Math.min(Math.abs(value) / (range > 0 ? range : 1e-12), 1);
        const deep = value >= 0 ? PALETTE.positive : PALETTE.negative;
        const c = deep.map((target) => Math.round(255 + (target - 255) * strength));
        return "rgb(" + c.join(",") + ")";
      }
      function textColour(value, range) {
        const strength = Math.min(Math.abs(value || 0) / (range > 0 ? range : 1e-12), 1);
        return strength > 0.6 ? "#ffffff" : "#222222";
      }
      function cell(value, range, digits) {
        return '<span class="cell" style="background:' + colour(value, range) + ";color:" + textColour(value, range) + '">' + fixed(value, digits) + "</span>";
      }
      function sentenceOf(t) {
        let low = 0, high = sentenceCount - 1;
        while (low < high) { const mid = (low + high + 1) >> 1; if (starts[mid] <= t) low = mid; else high = mid - 1; }
        return low;
      }
      let largestS = 1e-12;
      for (const row of D.sensitivity) for (const v of row) if (v !== null && Math.abs(v) > largestS) largestS = Math.abs(v);
      let largestW = 1e-12;
      if (D.outputWeight) for (const row of D.outputWeight) for (const v of row) largestW = Math.max(largestW, Math.abs(v));
      const methods = Object.keys(D.rankings).sort((a, b) => (a === "sensitivity" ? -1 : b === "sensitivity" ? 1 : a < b ? -1 : 1));
      const lowerWords = new Map();
      for (let t = 0; t < N; t++) {
        const key = word(t).toLowerCase();
        if (!lowerWords.has(key)) lowerWords.set(key, []);
        lowerWords.get(key).push(t);
      }

      const state = { label: D.labels[0], neuron: 0, method: "sensitivity", color: "activation", q: "", span: null, neurons: null };

      function readFragment() {
        const params = new URLSearchParams(location.hash.slice(1));
        const label = params.get("label");
        if (label !== null && D.labels.includes(label)) state.label = label;
        const neuron = parseInt(params.get("neuron"), 10);
        if (Number.isInteger(neuron) && neuron >= 0 && neuron < n) state.neuron = neuron;
        const method = params.get("method");
        if (method !== null && methods.includes(method)) state.method = method;
        const color = params.get("color");
        if (color === "activation" || (color === "contribution" && D.outputWeight)) state.color = color;
        state.q = params.get("q") || "";
        const span = (params.get("span") || "").split("-").map((x) => parseInt(x, 10));
        state.span = span.length === 2 && span.every((x) => Number.isInteger(x) && x >= 0 && x < N) && span[0] <= span[1]
          && sentenceOf(span[0]) === sentenceOf(span[1]) ? span : null;
        const shown = (params.get("neurons") || "").split(",").map((x) => parseInt(x, 10)).filter((x) => Number.isInteger(x) && x >= 0 && x < n);
        state.neurons = shown.length ? shown : null;
      }
      function writeFragment() {
        const params = new URLSearchParams();
        params.set("label", state.label);
        params.set("neuron", String(state.neuron));
        if (state.method !== "sensitivity") params.set("method", state.method);
        if (state.color !== "activation") params.set("color", state.color);
        if (state.q) params.set("q", state.q);
        if (state.span) params.set("span", state.span[0] + "-" + state.span[1]);
        if (state.neurons) params.set("neurons", state.neurons.join(","));
        const hash = "#" + params.toString();
        if (location.hash !== hash) history.replaceState(null, "", hash);
      }
      function shownNeurons() { return state.neurons || [state.neuron]; }
      function labelIndex() { return D.labels.indexOf(state.label); }

      function renderMeta() {
        const parts = [(D.name ? D.name + ": " : "") + D.model, "layer " + D.layer + " of " + D.layers, n + " neurons", m + " labels",
          N.toLocaleString("en") + " tokens in " + sentenceCount.toLocaleString("en") + " sentences of " + D.data,
          "decoding " + D.decoding, "sensitivity measure " + D.measure.replace("_", " ")];
        $("meta").textContent = parts.join(" · ");
        $("notes").textContent = D.notes.join(" ");
        const labels = $("labels");
        labels.innerHTML = D.labels.map((label) => '<button type="button" class="label-button" data-label="' + escapeText(label) + '">' + escapeText(label) + "</button>").join("");
        $("method").innerHTML = methods.map((method) => '<option value="' + method + '">' + method + "</option>").join("");
        if (!D.outputWeight) $("color").querySelector('option[value="contribution"]').disabled = true;
      }

      function renderLabelView() {
        const j = labelIndex();
        for (const button of document.querySelectorAll(".label-button")) button.setAttribute("aria-pressed", String(button.dataset.label === state.label));
        $("method").value = state.method;
        $("label-title").textContent = "Label " + state.label + ": neurons ranked by " + state.method;
        const ranking = (D.rankings[state.method] || {})[state.label] || [];
        const scores = D.rankingScores && D.rankingScores[state.method] ? D.rankingScores[state.method][state.label] : null;
        let summary = ranking.length ? ranking.length + " neurons." : "No ranking: " + state.label + " is never predicted on " + D.data + ".";
        if (scores) summary += " Ablating its top 10 costs " + fixed(scores[0], 1) + " points of " + state.label + "'s accuracy (area " + fixed(scores[1], 1) + ").";
        if (D.intervalLower) summary += " Intervals: " + Math.round(100 * D.intervalLevel) + " % sentence bootstrap.";
        $("label-summary").textContent = summary;
        const rows = [];
        ranking.forEach((i, rank) => {
          const s = D.sensitivity[i][j];
          const interval = D.intervalLower ? "[" + fixed(D.intervalLower[i][j]) + ", " + fixed(D.intervalUpper[i][j]) + "]" : "–";
          const finding = D.findings ? (D.findings[i][j] === true ? "yes" : D.findings[i][j] === false ? "no" : "–") : "–";
          rows.push('<tr class="neuron-row" tabindex="0" data-neuron="' + i + '" aria-selected="' + (i === state.neuron) + '"><td class="num">' + (rank + 1)
            + '</td><td class="num">' + i + "</td><td>" + cell(s, largestS) + '</td><td class="num">' + interval + "</td><td>" + finding
            + '</td><td class="num">' + fixed(D.single[i][j], 1) + "</td></tr>");
        });
        document.querySelector("#neuron-table tbody").innerHTML = rows.join("");
      }

      function context(t, radius) {
        const sentence = sentenceOf(t), from = Math.max(starts[sentence], t - radius), to = Math.min(starts[sentence + 1], t + radius + 1);
        const words = [];
        for (let u = from; u < to; u++) words.push(u === t ? "<mark>" + escapeText(word(u)) + "</mark>" : escapeText(word(u)));
        return (from > starts[sentence] ? "… " : "") + words.join(" ") + (to < starts[sentence + 1] ? " …" : "");
      }
      function tokenList(tokens, i) {
        return tokens.map((t) => '<li class="top-token" data-token="' + t + '"><span class="context">' + context(t, 4) + "</span> "
          + cell(h(t, i), 1) + ' <span class="meta">gold ' + escapeText(labelName(gold[t])) + ", predicted " + escapeText(labelName(predicted[t])) + "</span></li>").join("");
      }
      function histogram(counts) {
        const largest = Math.max(1, ...counts);
        return '<span class="hist" role="img" aria-label="histogram of h from −1 to 1: ' + counts.join(" ") + '">'
          + counts.map((c) => '<span style="height:' + Math.round(22 * c / largest) + 'px"></span>').join("") + "</span>";
      }
      function moments(counts) {
        let total = 0, sum = 0, squares = 0;
        const edges = D.histogramEdges;
        counts.forEach((c, b) => { const mid = (edges[b] + edges[b + 1]) / 2; total += c; sum += c * mid; squares += c * mid * mid; });
        if (!total) return { count: 0, mean: null, sd: null };
        const mean = sum / total;
        return { count: total, mean: mean, sd: Math.sqrt(Math.max(0, squares / total - mean * mean)) };
      }

      function renderCard() {
        const i = state.neuron;
        $("card-title").textContent = "Neuron " + i + (D.name ? " of " + D.name : "");
        let strongest = 0;
        D.labels.forEach((_, j) => { if (Math.abs(D.sensitivity[i][j] || 0) > Math.abs(D.sensitivity[i][strongest] || 0)) strongest = j; });
        $("card-summary").textContent = "Most sensitive to " + D.labels[strongest] + " (s = " + fixed(D.sensitivity[i][strongest]) + "). Activations are stored to within "
          + fixed(scale[i] / 2, 4) + " (8-bit).";
        let profile = "<table><thead><tr><th>label</th><th>s</th><th>interval</th><th>finding</th><th>rank</th><th>drop alone (pts)</th></tr></thead><tbody>";
        D.labels.forEach((label, j) => {
          const ranking = D.rankings.sensitivity[label] || [];
          const rank = ranking.indexOf(i);
          profile += "<tr><td>" + escapeText(label) + "</td><td>" + cell(D.sensitivity[i][j], largestS) + '</td><td class="num">'
            + (D.intervalLower ? "[" + fixed(D.intervalLower[i][j]) + ", " + fixed(D.intervalUpper[i][j]) + "]" : "–") + "</td><td>"
            + (D.findings ? (D.findings[i][j] === true ? "yes" : D.findings[i][j] === false ? "no" : "–") : "–") + '</td><td class="num">'
            + (rank >= 0 ? rank + 1 : "–") + '</td><td class="num">' + fixed(D.single[i][j], 1) + "</td></tr>";
        });
        $("card-profile").innerHTML = profile + "</tbody></table>";
        let distribution = "<table><thead><tr><th>label</th><th>gold n</th><th>mean ± sd</th><th>h from −1 to 1</th><th>predicted n</th><th>mean ± sd</th><th>h from −1 to 1</th></tr></thead><tbody>";
        D.labels.forEach((label, j) => {
          const g = D.goldHistograms[i][j], p = D.predictedHistograms[i][j], a = moments(g), b = moments(p);
          distribution += "<tr><td>" + escapeText(label) + '</td><td class="num">' + a.count + '</td><td class="num">' + fixed(a.mean) + " ± " + fixed(a.sd) + "</td><td>" + histogram(g)
            + '</td><td class="num">' + b.count + '</td><td class="num">' + fixed(b.mean) + " ± " + fixed(b.sd) + "</td><td>" + histogram(p) + "</td></tr>";
        });
        $("card-distribution").innerHTML = distribution + "</tbody></table>";
        $("card-top-tokens").innerHTML = tokenList(D.topTokens[i], i);
        $("card-bottom-tokens").innerHTML = tokenList(D.bottomTokens[i], i);
        if (!D.seeds.length) {
          $("card-matches").innerHTML = '<p class="note">No other seeds: pass --run with a reproduce, study or compare folder.</p>';
        } else {
          let matches = "<table><thead><tr><th>model</th><th>matched neuron</th><th>r</th><th>best |r| there</th><th>its most sensitive label</th></tr></thead><tbody>";
          for (const seed of D.seeds) {
            const match = seed.matches[i];
            let top = "–";
            if (match && seed.sensitivity && seed.sensitivity[match.neuron]) {
              const row = seed.sensitivity[match.neuron];
              let best = 0;
              row.forEach((v, j) => { if (Math.abs(v || 0) > Math.abs(row[best] || 0)) best = j; });
              top = D.labels[best] + " (s = " + fixed(row[best]) + ")";
            }
            matches += "<tr><td>" + escapeText(seed.name) + '</td><td class="num">' + (match ? match.neuron : "–") + "</td><td>" + cell(match ? match.correlation : null, 1)
              + '</td><td class="num">' + fixed(seed.maxCorrelation ? seed.maxCorrelation[i] : null) + "</td><td>" + escapeText(top) + "</td></tr>";
          }
          $("card-matches").innerHTML = matches + "</tbody></table>";
        }
      }

      function tokenValue(t, i) {
        if (state.color === "contribution" && D.outputWeight) return D.outputWeight[i][labelIndex()] * h(t, i);
        return h(t, i);
      }
      function sentenceHTML(sentence, highlight) {
        const neurons = shownNeurons(), range = state.color === "contribution" ? largestW : 1;
        let text = '<div class="sentence" data-sentence="' + sentence + '">';
        for (let t = starts[sentence]; t < starts[sentence + 1]; t++) {
          const values = neurons.map((i) => tokenValue(t, i));
          const inSpan = state.span && t >= state.span[0] && t <= state.span[1];
          text += '<span class="token' + (highlight && highlight.has(t) ? " found" : "") + (inSpan ? " in-span" : "") + '" tabindex="0" data-token="' + t + '" title="'
            + escapeText(word(t) + ": " + neurons.map((i, k) => "neuron " + i + " " + fixed(values[k], 3)).join(", ")) + '" style="background:' + colour(values[0], range)
            + '"><span class="word" style="color:' + textColour(values[0], range) + '">' + escapeText(word(t)) + "</span>";
          values.forEach((v, k) => { text += '<small class="value" style="background:' + colour(v, range) + ";color:" + textColour(v, range) + '">' + (neurons.length > 1 ? neurons[k] + ": " : "") + fixed(v) + "</small>"; });
          text += '<small class="gold">' + escapeText(labelName(gold[t])) + '</small><small class="pred">' + escapeText(labelName(predicted[t])) + "</small></span>";
        }
        return text + "</div>";
      }
      function renderText() {
        $("text-neurons").value = shownNeurons().join(",");
        $("color").value = state.color;
        const sentences = [];
        if (state.span) sentences.push(sentenceOf(state.span[0]));
        for (let s = 0; s < sentenceCount && sentences.length < 8; s++) if (!sentences.includes(s)) sentences.push(s);
        $("text-title").textContent = "Text: tokens coloured by " + (state.color === "contribution" ? "W[i, " + state.label + "]·h" : "h") + " of neuron" + (shownNeurons().length > 1 ? "s " : " ") + shownNeurons().join(", ");
        $("sentences").innerHTML = sentences.map((s) => sentenceHTML(s, null)).join("");
        renderMatches();
      }
      // LSTMVis's select-and-match: neurons on throughout the span and off just around it (or the reverse).
      function renderMatches() {
        if (!state.span) { $("match-summary").textContent = "No span selected."; $("match-results").innerHTML = ""; return; }
        const [a, b] = state.span, sentence = sentenceOf(a);
        const before = [], after = [];
        for (let t = Math.max(starts[sentence], a - 3); t < a; t++) before.push(t);
        for (let t = b + 1; t < Math.min(starts[sentence + 1], b + 4); t++) after.push(t);
        const around = before.concat(after), scored = [];
        for (let i = 0; i < n; i++) {
          let lowIn = Infinity, highIn = -Infinity, lowOut = Infinity, highOut = -Infinity;
          for (let t = a; t <= b; t++) { const v = h(t, i); lowIn = Math.min(lowIn, v); highIn = Math.max(highIn, v); }
          for (const t of around) { const v = h(t, i); lowOut = Math.min(lowOut, v); highOut = Math.max(highOut, v); }
          const on = around.length ? lowIn - highOut : lowIn, off = around.length ? lowOut - highIn : -highIn;
          scored.push(on >= off ? { neuron: i, score: on, sign: "on" } : { neuron: i, score: off, sign: "off" });
        }
        scored.sort((x, y) => y.score - x.score || x.neuron - y.neuron);
        const words = [];
        for (let t = a; t <= b; t++) words.push(word(t));
        $("match-summary").textContent = "Span \u201c" + words.join(" ") + "\u201d (tokens " + a + "–" + b + "), against up to 3 tokens either side: "
          + "score = the smallest h inside minus the largest around (on), or the reverse (off).";
        $("match-results").innerHTML = scored.slice(0, 10).map((x) => '<li class="match" tabindex="0" data-neuron="' + x.neuron + '">neuron ' + x.neuron + " (" + x.sign + "): gap "
          + fixed(x.score, 3) + "</li>").join("");
      }
      function renderSearch() {
        $("search-input").value = state.q;
        if (!state.q) { $("search-summary").textContent = "Type a word to see its sentences."; $("search-results").innerHTML = ""; return; }
        const tokens = lowerWords.get(state.q.toLowerCase()) || [];
        const sentences = [], highlight = new Set(tokens);
        for (const t of tokens) { const s = sentenceOf(t); if (!sentences.includes(s)) sentences.push(s); if (sentences.length >= 20) break; }
        $("search-summary").textContent = tokens.length + " token" + (tokens.length === 1 ? "" : "s") + " of \u201c" + state.q + "\u201d in " + D.data
          + (sentences.length ? "; the first " + sentences.length + " sentence" + (sentences.length === 1 ? "" : "s") + ":" : ".");
        $("search-results").innerHTML = sentences.map((s) => sentenceHTML(s, highlight)).join("");
      }

      function render(parts) {
        const started = performance.now();
        if (parts.label) renderLabelView();
        if (parts.card) renderCard();
        if (parts.text) renderText();
        if (parts.search) renderSearch();
        writeFragment();
        window.explorerLastRenderMilliseconds = performance.now() - started;
      }
      const all = { label: true, card: true, text: true, search: true };

      function selectNeuron(i, focusRow) {
        state.neuron = i;
        state.neurons = null;
        render({ label: true, card: true, text: true, search: true });
        if (focusRow) { const row = document.querySelector('#neuron-table tr[data-neuron="' + i + '"]'); if (row) row.focus(); }
      }
      function tokenClicked(t, extend) {
        if (extend && state.spanStart !== undefined && sentenceOf(state.spanStart) === sentenceOf(t)) {
          state.span = [Math.min(state.spanStart, t), Math.max(state.spanStart, t)];
        } else {
          state.spanStart = t;
          state.span = [t, t];
        }
        render({ text: true, search: true });
      }
      document.addEventListener("click", (event) => {
        const target = event.target.closest("[data-label], tr.neuron-row, li.match, span.token, li.top-token");
        if (!target) return;
        if (target.classList.contains("label-button")) { state.label = target.dataset.label; render(all); }
        else if (target.matches("tr.neuron-row, li.match")) selectNeuron(parseInt(target.dataset.neuron, 10), false);
        else if (target.matches("span.token")) tokenClicked(parseInt(target.dataset.token, 10), event.shiftKey);
        else if (target.matches("li.top-token")) { const t = parseInt(target.dataset.token, 10); state.span = [t, t]; state.spanStart = t; render({ text: true }); $("text-view").scrollIntoView(); }
      });
      document.addEventListener("keydown", (event) => {
        const target = event.target;
        if (!(target instanceof Element)) return;
        if (target.matches("tr.neuron-row, li.match, span.token") && (event.key === "Enter" || event.key === " ")) {
          event.preventDefault();
          if (target.matches("span.token")) tokenClicked(parseInt(target.dataset.token, 10), event.shiftKey);
          else selectNeuron(parseInt(target.dataset.neuron, 10), target.matches("tr.neuron-row"));
        } else if (target.matches("tr.neuron-row") && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
          event.preventDefault();
          const next = event.key === "ArrowDown" ? target.nextElementSibling : target.previousElementSibling;
          if (next) next.focus();
        } else if (target.id === "search-input" && event.key === "Enter") {
          state.q = target.value.trim(); render({ search: true });
        }
      });
      $("method").addEventListener("change", (event) => { state.method = event.target.value; render({ label: true }); });
      $("color").addEventListener("change", (event) => { state.color = event.target.value; render({ text: true, search: true }); });
      $("search-button").addEventListener("click", () => { state.q = $("search-input").value.trim(); render({ search: true }); });
      $("text-neurons").addEventListener("change", (event) => {
        const shown = event.target.value.split(",").map((x) => parseInt(x, 10)).filter((x) => Number.isInteger(x) && x >= 0 && x < n);
        state.neurons = shown.length ? shown : null;
        render({ text: true, search: true });
      });
      window.addEventListener("hashchange", () => { readFragment(); render(all); });

      renderMeta();
      readFragment();
      render(all);
      window.explorerReady = true;
    })();

    """#
}
