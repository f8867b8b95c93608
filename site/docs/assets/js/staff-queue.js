// Staff queues: new, mine, due soon, breached and by department, in the API's next-deadline
// order, with cursor paging, honest counts ("25+" while more pages exist), keyboard shortcuts
// and the CSV export.
import { api, deadlineBadge, h, href, name, problem, tr, widget } from "./staff-core.js";

const QUEUES = {
  new: ["New tickets", "status=received"],
  mine: ["Assigned to me", "assignee=me"],
  due_soon: ["Due soon", "sla=due_soon"],
  breached: ["Breached", "sla=breached"],
  department: ["By department", "department="],
};

widget("staff-queue", (root, $, say) => {
  const list = $("sq-list");
  const departments = $("sq-department");
  const links = () => list.querySelectorAll("a");
  const loaded = {}; // queue -> {rows, cursor}
  let current = location.hash.match(/queue=(\w+)/)?.[1];
  if (!QUEUES[current]) current = "new";
  let selected = -1;
  let request = 0;
  const filter = (q) => QUEUES[q][1] + (q === "department" ? encodeURIComponent(departments.value) : "");

  /** The count of a queue: what is loaded, with "+" while the API has more pages. */
  function count(q) {
    const page = loaded[q];
    const n = page ? `${page.rows.length}${page.cursor ? "+" : ""}` : "";
    root.querySelector(`[data-count="${q}"]`).textContent = n && `(${n})`;
    return n;
  }

  async function fetchPage(q, cursor) {
    const r = await api("GET", `/v1/staff/tickets?${filter(q)}&limit=25${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    if (r.ok) {
      const page = cursor ? loaded[q] : (loaded[q] = { rows: [] });
      page.rows.push(...r.data.tickets);
      page.cursor = r.data.next_cursor;
      count(q);
    }
    return r;
  }

  function row(t) {
    const tag = (text) => h("span", { class: "cl-tag" }, text);
    return h("li", { class: "cl-row" },
      h("a", { href: href("ticket", t.number) }, h("strong", {}, t.number), " ", t.subject),
      h("p", { class: "cl-row-meta" }, deadlineBadge(t), " ", tag(t.priority), " ", tag(name(t.status)), " ",
        t.escalated && [h("span", { class: "cl-tag cl-tag--late" }, tr("Escalated")), " "],
        [name(t.type), t.category, t.department, t.assignee ? tr("assigned to {assignee}", t) : tr("unassigned")].join(" · ")));
  }

  function render() {
    const page = loaded[current];
    list.replaceChildren(...page.rows.map(row));
    $("sq-more").hidden = !page.cursor;
    const n = count(current);
    say("sq-status", tr(page.rows.length ? "{queue}: {n} tickets, next deadline first." : "{queue}: no tickets.", { queue: tr(QUEUES[current][0]), n }));
    selected = Math.min(selected, page.rows.length - 1);
  }

  async function show(q, focus) {
    if (!root.isConnected) return; // the person has moved on to another page
    const mine = ++request;
    current = q;
    for (const tab of root.querySelectorAll("[data-queue]")) tab.setAttribute("aria-pressed", tab.dataset.queue === q);
    $("sq-department-field").hidden = q !== "department";
    say("sq-title", q === "department" ? tr("{department}: open tickets", { department: departments.selectedOptions[0]?.text || tr("Department") }) : tr(QUEUES[q][0]));
    history.replaceState(history.state, "", `#queue=${q}`);
    say("sq-alert");
    selected = -1;
    if (!loaded[q]) {
      say("sq-status", tr("Loading…"));
      list.replaceChildren();
      const r = await fetchPage(q);
      if (mine !== request) return;
      if (!r.ok) {
        say("sq-status");
        return say("sq-alert", problem(r));
      }
    }
    render();
    if (focus) $("sq-title").focus();
  }

  async function loadAll() {
    for (const q in loaded) delete loaded[q];
    const r = await api("GET", "/v1/staff/departments");
    const was = departments.value;
    departments.replaceChildren(...(r.data?.departments || []).map((d) => h("option", { value: d.id }, d.name)));
    if (was) departments.value = was;
    for (const q in QUEUES) if (q !== current) fetchPage(q); // the other queues' counts
    await show(current);
  }

  function select(index) {
    const all = links();
    if (!all.length) return;
    selected = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((link, i) => link.parentNode.classList.toggle("cl-row--selected", i === selected));
    all[selected].focus();
  }
  list.addEventListener("focusin", ({ target }) => {
    const i = [...links()].indexOf(target);
    if (i >= 0 && i !== selected) select(i);
  });

  // j/k move, Enter or o open, ? toggles the help; not while typing or with a modifier key.
  function onKey(event) {
    if (!root.isConnected) return document.removeEventListener("keydown", onKey);
    const { key, target } = event;
    if (root.hidden || event.ctrlKey || event.metaKey || event.altKey || target.closest?.("input, textarea, select, [contenteditable]")) return;
    if (key === "j" || key === "k") select(selected + (key === "j" ? 1 : -1));
    else if ((key === "o" || (key === "Enter" && target === document.body)) && selected >= 0) links()[selected]?.click();
    else if (key === "?") {
      const help = $("sq-help");
      help.open = !help.open;
      if (help.open) help.querySelector("summary").focus();
    } else return;
    event.preventDefault();
  }
  document.addEventListener("keydown", onKey);

  for (const tab of root.querySelectorAll("[data-queue]")) tab.addEventListener("click", () => show(tab.dataset.queue, true));
  departments.addEventListener("change", () => {
    delete loaded.department;
    show("department");
  });
  $("sq-refresh").addEventListener("click", loadAll);
  $("sq-more").addEventListener("click", async () => {
    const before = loaded[current].rows.length;
    const r = await fetchPage(current, loaded[current].cursor);
    if (!r.ok) return say("sq-alert", problem(r));
    render();
    select(before); // the first ticket of the new page
  });
  // A link cannot carry the Authorization header: fetch the CSV, then save it from a Blob.
  $("sq-export").addEventListener("click", async () => {
    say("sq-status", tr("Preparing the CSV…"));
    const response = await api("GET", `/v1/staff/export.csv?${filter(current)}`, { raw: true });
    if (!response.ok) {
      say("sq-status");
      const error = response.status ? (await response.json().catch(() => null))?.error : null;
      return say("sq-alert", tr("The export failed: {problem}", { problem: problem({ status: response.status, error }) }));
    }
    const link = h("a", { href: URL.createObjectURL(await response.blob()), download: `clearloop-${current}-${new Date().toISOString().slice(0, 10)}.csv` });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    say("sq-status", tr(response.headers.get("X-Next-Cursor")
      ? "CSV downloaded. It holds the first 10,000 tickets only: narrow the queue to export the rest." : "CSV downloaded."));
  });

  return (member) => member && loadAll();
}, "staff-queue");
