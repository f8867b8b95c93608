// Triage of one ticket: type, category, priority, department, assignee, subject and public
// summary, saved with If-Match: <version>. A 409 stale_version re-reads the ticket and shows,
// field by field, the value when opened, the edit and the value now; "Reload" takes the latter.
import { api, categories, fieldError, h, hashNumber, href, name, problem, tr, widget } from "./staff-core.js";

const FIELDS = ["type", "category", "priority", "department", "assignee", "subject", "public_summary"];
const NULLABLE = ["assignee", "public_summary"];

widget("staff-triage", (root, $, say) => {
  const field = (f) => $(`sg-${f}`);
  const option = (value, text) => h("option", { value }, text);
  let base = null; // the view the form shows: its version goes in If-Match
  let pending = null; // the view a conflict found
  let people = {}; // department id -> {name, staff}
  let request = 0;

  async function open(number, focus) {
    const mine = ++request;
    say("sg-alert");
    $("sg-ticket").hidden = $("sg-conflict").hidden = true;
    if (!number) return;
    say("sg-status", tr("Opening {number}…", { number }));
    const r = await api("GET", `/v1/staff/tickets/${encodeURIComponent(number)}`);
    if (mine !== request || !root.isConnected) return;
    say("sg-status");
    if (!r.ok) return say("sg-alert", problem(r));
    $("sg-number").value = r.data.number;
    if (hashNumber() !== r.data.number) history.replaceState(history.state, "", `#${r.data.number}`);
    await fill(r.data);
    $("sg-ticket").hidden = false;
    if (focus) $("sg-title").focus();
  }

  async function fill(view) {
    base = view;
    if (!field("category").options.length) {
      field("category").replaceChildren(...(await categories()).map((c) => option(c.code, c.label)));
      const r = await api("GET", "/v1/staff/departments");
      people = Object.fromEntries((r.data?.departments || []).map((d) => [d.id, d]));
      field("department").replaceChildren(...Object.values(people).map((d) => option(d.id, d.name)));
    }
    $("sg-title").replaceChildren(h("a", { href: href("ticket", view.number) }, view.number), `: ${view.subject}`);
    say("sg-state", tr("{status} · version {version}", { status: name(view.status), version: view.version }));
    for (const f of FIELDS) {
      const control = field(f);
      const value = view[f] ?? "";
      // A value this list lacks (another department's, say) is still shown as it is.
      if (f === "assignee") assignees();
      else if (control.tagName === "SELECT" && !control.querySelector(`[value="${CSS.escape(value)}"]`)) control.append(option(value, value));
      control.value = value;
      fieldError(control);
    }
  }

  function assignees() {
    const select = field("assignee");
    const staff = people[field("department").value]?.staff || [];
    const was = select.value;
    const extra = base.assignee && !staff.some((p) => p.id === base.assignee) ? [option(base.assignee, base.assignee)] : [];
    select.replaceChildren(option("", tr("Unassigned")), ...staff.map((p) => option(p.id, tr("{name} ({role})", { name: p.name, role: tr(p.role) }))), ...extra);
    select.value = was;
    if (select.selectedIndex < 0) select.value = "";
  }
  field("department").addEventListener("change", assignees);

  /** The fields whose value differs from the view the form was filled from. */
  function edits() {
    const out = {};
    for (const f of FIELDS) {
      const value = field(f).value.trim() || (NULLABLE.includes(f) ? null : "");
      if (value !== (base[f] ?? null)) out[f] = value;
    }
    return out;
  }

  $("sg-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const edit = edits();
    if (!Object.keys(edit).length) return say("sg-save-status", tr("Nothing to save: no field was changed."));
    say("sg-save-status", tr("Saving…"));
    const r = await api("PATCH", `/v1/staff/tickets/${encodeURIComponent(base.number)}`, { body: edit, headers: { "If-Match": base.version } });
    for (const f of FIELDS) fieldError(field(f), r.error?.fields?.[f]);
    if (r.ok) {
      await fill(r.data);
      return say("sg-save-status", tr("Triage saved."));
    }
    if (r.error?.code !== "stale_version") return say("sg-save-status", tr("Not saved: {problem}", { problem: problem(r) }));
    say("sg-save-status", tr("Not saved: the ticket changed after you opened it."));
    const fresh = await api("GET", `/v1/staff/tickets/${encodeURIComponent(base.number)}`);
    if (!fresh.ok) return say("sg-alert", problem(fresh));
    pending = fresh.data;
    const show = (v) => (v === null || v === undefined || v === "" ? "—" : String(v));
    $("sg-conflict-rows").replaceChildren(...[...FIELDS, "status"].filter((f) => f in edit || base[f] !== pending[f]).map((f) =>
      h("tr", {}, h("th", { scope: "row" }, field(f)?.labels[0].firstChild.textContent.trim() || tr("Status")),
        h("td", {}, show(base[f])), h("td", {}, f in edit ? show(edit[f]) : tr("(not edited)")),
        h("td", {}, show(pending[f]), base[f] !== pending[f] && h("strong", {}, tr(" (changed by someone else)"))))));
    $("sg-conflict").hidden = false;
    $("sg-conflict").focus();
  });
  $("sg-conflict-reload").addEventListener("click", async () => {
    $("sg-conflict").hidden = true;
    await fill(pending);
    say("sg-save-status", tr("Reloaded: the form shows the current values."));
    field("type").focus();
  });
  $("sg-open").addEventListener("submit", (event) => {
    event.preventDefault();
    open($("sg-number").value.trim().toUpperCase(), true);
  });
  return (member) => member && open(hashNumber() || base?.number, false);
}, "staff-triage");
