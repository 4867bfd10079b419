// Transcript browser. Every piece of data is inserted with textContent, never as HTML.
(() => {
  "use strict";
  const PAGE_SIZE = 100;
  const OUTCOME_LABELS = {
    flipped: "flipped", held: "held", initially_wrong: "initially wrong", failed: "failed",
  };
  const state = { index: null, matches: [], shown: 0, chunks: new Map(), selectedRow: null };

  async function inflate(elementId) {
    const encoded = document.getElementById(elementId).textContent.trim();
    const binary = atob(encoded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return JSON.parse(await new Response(stream).text());
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function fillSelect(id, values, labels) {
    const select = document.getElementById(id);
    values.forEach((value, code) => {
      const option = document.createElement("option");
      option.value = String(code);
      option.textContent = labels ? labels[value] || value : value;
      select.appendChild(option);
    });
    select.addEventListener("change", applyFilters);
  }

  function applyFilters() {
    const wanted = ["filter-model", "filter-strategy", "filter-subset", "filter-outcome"].map(
      (id) => document.getElementById(id).value,
    );
    const text = document.getElementById("filter-text").value.trim().toLowerCase();
    state.matches = state.index.rows.filter((row) => {
      for (let i = 0; i < 4; i += 1) {
        if (wanted[i] !== "" && row[i] !== Number(wanted[i])) return false;
      }
      if (text) {
        return String(row[5]).toLowerCase().includes(text) || row[7].toLowerCase().includes(text);
      }
      return true;
    });
    state.shown = 0;
    document.getElementById("conversation-list").replaceChildren();
    document.getElementById("match-count").textContent =
      `${state.matches.length} of ${state.index.rows.length} conversations`;
    showMore();
  }

  function showMore() {
    const body = document.getElementById("conversation-list");
    const index = state.index;
    const end = Math.min(state.matches.length, state.shown + PAGE_SIZE);
    const fragment = document.createDocumentFragment();
    for (let i = state.shown; i < end; i += 1) {
      const row = state.matches[i];
      const tr = document.createElement("tr");
      const outcome = index.outcomes[row[3]];
      const cells = [
        index.models[row[0]], index.subsets[row[2]], index.strategies[row[1]],
        row[6] ? `${row[5]} #${row[6]}` : row[5], OUTCOME_LABELS[outcome] || outcome,
        row[4] === null ? "" : row[4], row[7],
      ];
      cells.forEach((cell) => tr.appendChild(element("td", cell)));
      tr.addEventListener("click", () => openConversation(row, tr));
      fragment.appendChild(tr);
    }
    body.appendChild(fragment);
    state.shown = end;
    document.getElementById("show-more").hidden = state.shown >= state.matches.length;
  }

  async function loadChunk(number) {
    if (!state.chunks.has(number)) state.chunks.set(number, inflate(`farm-chunk-${number}`));
    return state.chunks.get(number);
  }

  function message(role, label, text) {
    const box = element("div", null, `message ${role}`);
    box.appendChild(element("div", label, "role"));
    box.appendChild(element("pre", text));
    return box;
  }

  function probeBox(probe, sharedPrompt, title) {
    const box = element("div", null, "message probe");
    box.appendChild(element("div", title, "role"));
    box.appendChild(element("pre", probe.prompt === null ? sharedPrompt : probe.prompt));
    probe.attempts.forEach((attempt, number) => {
      const label = probe.attempts.length > 1 ? `reply (attempt ${number + 1})` : "reply";
      box.appendChild(element("div", label, "role"));
      box.appendChild(element("pre", attempt.text));
      const parsed = [`parsed: ${attempt.status}`];
      if (attempt.option !== null) parsed.push(`option ${attempt.option}`);
      if (attempt.answer !== null) parsed.push(`answer "${attempt.answer}"`);
      if (attempt.reason !== null) parsed.push(`(${attempt.reason})`);
      box.appendChild(element("div", parsed.join(" "), "parsed"));
    });
    const verdict = element("div", null);
    verdict.appendChild(document.createTextNode("verdict: "));
    verdict.appendChild(element("span", probe.verdict, `verdict ${probe.verdict}`));
    if (probe.chose_target) verdict.appendChild(document.createTextNode(" (chose the target)"));
    if (probe.confidence !== null) {
      verdict.appendChild(document.createTextNode(`, confidence ${probe.confidence}`));
    }
    box.appendChild(verdict);
    return box;
  }

  function renderConversation(conversation) {
    const view = document.getElementById("conversation-view");
    const parts = [];
    parts.push(element("h3", `${conversation.model} / ${conversation.subset} / ${conversation.strategy}`));
    const flip = conversation.flip_turn === null ? "none" : `turn ${conversation.flip_turn}`;
    parts.push(element(
      "p",
      `Item ${conversation.item} (epoch ${conversation.epoch}), run ${conversation.run}; ` +
        `status ${conversation.status}; outcome ${OUTCOME_LABELS[conversation.outcome]}; flip: ${flip}.`,
      "meta",
    ));
    if (conversation.system !== null) parts.push(message("system", "system", conversation.system));
    if (conversation.initial) {
      parts.push(probeBox(conversation.initial, conversation.prompt, "initial check (turn 0, recorded)"));
    }
    conversation.turns.forEach((turn) => {
      parts.push(message("user", `persuader, turn ${turn.turn}`, turn.persuader));
      parts.push(message("assistant", `model, turn ${turn.turn}`, turn.reply));
      if (turn.probe) {
        parts.push(probeBox(turn.probe, conversation.prompt, `implicit check after turn ${turn.turn} (not recorded)`));
      }
    });
    if (conversation.final) {
      parts.push(probeBox(conversation.final, conversation.prompt, "final check (recorded)"));
    }
    if (conversation.error) {
      const where = conversation.error.turn === null ? "" : ` at turn ${conversation.error.turn}`;
      parts.push(element("p", `${conversation.error.kind}${where}: ${conversation.error.message}`, "error"));
    }
    view.replaceChildren(...parts);
    view.scrollTop = 0;
  }

  async function openConversation(row, tr) {
    if (state.selectedRow) state.selectedRow.classList.remove("selected");
    tr.classList.add("selected");
    state.selectedRow = tr;
    const chunk = await loadChunk(row[8]);
    renderConversation(chunk[row[9]]);
  }

  async function start() {
    state.index = await inflate("farm-index");
    fillSelect("filter-model", state.index.models);
    fillSelect("filter-strategy", state.index.strategies);
    fillSelect("filter-subset", state.index.subsets);
    fillSelect("filter-outcome", state.index.outcomes, OUTCOME_LABELS);
    document.getElementById("filter-text").addEventListener("input", applyFilters);
    document.getElementById("show-more").addEventListener("click", showMore);
    applyFilters();
    document.body.dataset.transcriptsReady = "true";
  }

  start().catch((error) => {
    const view = document.getElementById("conversation-view");
    view.replaceChildren(element("p", `The transcript browser failed to load: ${error}`, "error"));
    throw error;
  });
})();
