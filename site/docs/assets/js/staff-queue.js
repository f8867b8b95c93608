// Staff queues: new, mine, due soon, breached and by department, in the API's next-deadline
// order, with cursor paging, honest counts, keyboard shortcuts and the CSV export.
import { h, onEachPage } from "./api.js";
import {
  api, deadlineBadge, fetchRaw, problem, statusName, ticketHref, typeName, whenSignedIn,
} from "./staff-core.js";

const PAGE = 25;
const QUEUES = {
  new: ["New tickets", "status=received"],
  mine: ["Assigned to me", "assignee=me"],
  due_soon: ["Due soon", "sla=due_soon"],
  breached: ["Breached", "sla=breached"],
  department: ["By department", "department="],
};
const TYPING = "input, textarea, select, [contenteditable]";

function initQueue(root) {
  const $ = (id) => root.querySelector(`#${id}`);
  const list = $("sq-list");
  const more = $("sq-more");
  const status = $("sq-status");
  const alertBox = $("sq-alert");
  const departments = $("sq-department");
  const loaded = {}; // queue -> {rows, cursor}
  let current = location.hash.match(/queue=(\w+)/)?.[1];
  if (!QUEUES[current]) current = "new";
  let selected = -1;
  let request = 0;

  const filter = (queue) => QUEUES[queue][1] + (queue === "department" ? encodeURIComponent(departments.value) : "");
  const showAlert = (text) => {
    alertBox.textContent = text;
    alertBox.hidden = !text;
  };

  function count(queue) {
    const page = loaded[queue];
    const text = page ? `${page.rows.length}${page.cursor ? "+" : ""}` : "";
    root.querySelector(`[data-count="${queue}"]`).textContent = text && `(${text})`;
    return text;
  }

  async function fetchPage(queue, cursor) {
    const query = `${filter(queue)}&limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const result = await api("GET", `/v1/staff/tickets?${query}`);
    if (!result.ok) return result;
    const page = loaded[queue] && cursor ? loaded[queue] : { rows: [] };
    page.rows.push(...result.data.tickets);
    page.cursor = result.data.next_cursor;
    loaded[queue] = page;
    count(queue);
    return result;
  }

  function row(ticket, index) {
    const link = h("a", { class: "cl-row-link", href: ticketHref(ticket.number) },
      h("strong", {}, ticket.number), " ", h("span", {}, ticket.subject));
    link.addEventListener("focus", () => select(index, false));
    return h("li", { class: "cl-row" }, link,
      h("p", { class: "cl-row-meta" }, deadlineBadge(ticket), " ",
        h("span", { class: "cl-tag" }, ticket.priority), " ",
        h("span", { class: "cl-tag" }, statusName(ticket.status)), " ",
        ticket.escalated && h("span", { class: "cl-tag cl-tag--late" }, "Escalated"), " ",
        h("span", {}, [typeName(ticket.type), ticket.category, ticket.department,
          ticket.assignee ? `assigned to ${ticket.assignee}` : "unassigned"].join(" · "))));
  }

  function render() {
    const page = loaded[current] || { rows: [] };
    list.replaceChildren(...page.rows.map(row));
    more.hidden = !page.cursor;
    const n = count(current);
    status.textContent = page.rows.length ? `${QUEUES[current][0]}: ${n} tickets, next deadline first.`
      : `${QUEUES[current][0]}: no tickets.`;
    selected = Math.min(selected, page.rows.length - 1);
  }

  async function show(queue, { focus = false } = {}) {
    current = queue;
    const mine = ++request;
    for (const tab of root.querySelectorAll("[data-queue]")) {
      tab.setAttribute("aria-pressed", String(tab.dataset.queue === queue));
    }
    $("sq-department-field").hidden = queue !== "department";
    $("sq-title").textContent = queue === "department"
      ? `${departments.selectedOptions[0]?.textContent || "Department"}: open tickets` : QUEUES[queue][0];
    history.replaceState(history.state, "", `#queue=${queue}`);
    showAlert("");
    selected = -1;
    if (!loaded[queue]) {
      status.textContent = "Loading…";
      list.replaceChildren();
      const result = await fetchPage(queue);
      if (mine !== request) return;
      if (!result.ok) {
        status.textContent = "";
        return showAlert(problem(result));
      }
    }
    render();
    if (focus) $("sq-title").focus();
  }

  async function loadAll() {
    for (const key of Object.keys(loaded)) delete loaded[key];
    const answer = await api("GET", "/v1/staff/departments");
    const known = departments.value;
    departments.replaceChildren(...(answer.data?.departments || []).map((d) => h("option", { value: d.id }, d.name)));
    if (known) departments.value = known;
    // The counts of the other queues load beside the one on show.
    for (const queue of ["new", "mine", "due_soon", "breached", "department"]) {
      if (queue !== current) fetchPage(queue);
    }
    await show(current);
  }

  function select(index, focus = true) {
    const links = list.querySelectorAll(".cl-row-link");
    if (!links.length) return;
    selected = Math.max(0, Math.min(index, links.length - 1));
    links.forEach((link, i) => link.closest("li").classList.toggle("cl-row--selected", i === selected));
    if (focus) links[selected].focus();
  }

  function onKey(event) {
    if (!root.isConnected) return document.removeEventListener("keydown", onKey);
    if (root.hidden || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest?.(TYPING)) return;
    const key = event.key;
    if (key === "j" || key === "k") select(selected + (key === "j" ? 1 : -1));
    else if ((key === "o" || (key === "Enter" && event.target === document.body)) && selected >= 0) {
      list.querySelectorAll(".cl-row-link")[selected]?.click();
    } else if (key === "?") {
      const help = $("sq-help");
      help.open = !help.open;
      if (help.open) help.querySelector("summary").focus();
    } else return;
    event.preventDefault();
  }
  document.addEventListener("keydown", onKey);

  for (const tab of root.querySelectorAll("[data-queue]")) {
    tab.addEventListener("click", () => show(tab.dataset.queue, { focus: true }));
  }
  departments.addEventListener("change", () => {
    delete loaded.department;
    show("department");
  });
  $("sq-refresh").addEventListener("click", loadAll);
  more.addEventListener("click", async () => {
    const before = loaded[current].rows.length;
    more.setAttribute("aria-disabled", "true");
    const result = await fetchPage(current, loaded[current].cursor);
    more.removeAttribute("aria-disabled");
    if (!result.ok) return showAlert(problem(result));
    render();
    select(before); // the first new ticket
  });
  $("sq-export").addEventListener("click", async () => {
    status.textContent = "Preparing the CSV…";
    const response = await fetchRaw(`/v1/staff/export.csv?${filter(current)}`);
    if (!response?.ok) {
      status.textContent = "";
      let message = "The staff API cannot be reached.";
      if (response) message = (await response.json().catch(() => null))?.error?.message || `HTTP ${response.status}`;
      return showAlert(`The export failed: ${message}`);
    }
    const blob = await response.blob();
    const link = h("a", { href: URL.createObjectURL(blob), download: `clearloop-${current}-${new Date().toISOString().slice(0, 10)}.csv` });
    root.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    status.textContent = response.headers.get("X-Next-Cursor")
      ? "CSV downloaded. It holds only the first 10,000 tickets: narrow the queue to export the rest."
      : "CSV downloaded.";
  });

  whenSignedIn(root, (member) => {
    root.hidden = !member;
    if (member) loadAll();
  });
}

onEachPage('[data-clearloop="staff-queue"]', initQueue);
