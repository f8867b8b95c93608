// The "Track a ticket" widget: reads #number=...&key=... from the URL fragment (which never
// reaches a server), looks the ticket up and shows its status, deadlines and public timeline.
// The key is sent only in the X-Ticket-Key header, never in a request URL.
import {
  categoryName, format, getCategories, getTicket, h, onEachPage, pickMessages, timeElement,
  language, pageUrl, tidyCode, tooManyMessage,
} from "./api.js";

const MESSAGES = {
  en: {
    looking: "Looking up the ticket…",
    numberRequired: "Enter your ticket number.",
    invalidNumber: "That is not a valid ticket number. Check it for typing mistakes: " +
      "a ticket number looks like FB-3K7QM-9X2QT.",
    notFound: "There is no ticket with that number. Check the number on your receipt.",
    invalidKey: "The private key does not match this ticket. Check the key on your receipt, " +
      "or leave the key empty to see the status only.",
    tooMany: "Too many lookups or wrong keys have come from your connection recently. " +
      "Wait a few minutes and try again.",
    tooManyWait: "Too many lookups or wrong keys have come from your connection recently. " +
      "Try again in {wait}.",
    waitSeconds: "{n} seconds",
    waitMinute: "1 minute",
    waitMinutes: "{n} minutes",
    unreachable: "The ticket service cannot be reached. Check your connection and try again.",
    serverError: "Something went wrong on our side. Please try again in a few minutes.",
    ticketTitle: "Ticket {number}",
    status: "Status",
    type: "Type",
    category: "Category",
    submitted: "Received",
    updated: "Last updated",
    firstResponse: "First response due by",
    resolution: "Resolution due by",
    timeline: "History",
    timelineEmpty: "No public updates yet.",
    timelineLocked: "Enter the private key from your receipt to see the history of this ticket.",
    otherLanguage: "This feedback was written in Chinese.",
    otherLanguageLink: "查看中文版",
    by: "by {actor}",
    actors: { submitter: "you", staff: "our staff", system: "Clearloop" },
    statuses: {
      received: "Received: waiting to be looked at",
      acknowledged: "Acknowledged: a team has it",
      in_progress: "In progress",
      awaiting_info: "Waiting for more information from you",
      resolved: "Resolved",
      closed: "Closed",
      reopened: "Reopened",
      rejected: "Not taken forward",
      merged: "Merged with another ticket",
    },
    types: {
      complaint: "Complaint",
      suggestion: "Suggestion",
      inquiry: "Question",
      praise: "Praise",
      report: "Fault or hazard",
    },
    kinds: {
      submitted: "Submitted",
      acknowledged: "Acknowledged",
      status_changed: "Status changed",
      reply: "Reply",
      message: "Information added",
      info_requested: "Information requested",
      resolved: "Resolved",
      reopened: "Reopened",
      closed: "Closed",
      rejected: "Not taken forward",
      merged: "Merged",
      rating: "Rated",
      attachment_added: "Photo added",
    },
    photos: "Your photos",
    photoAlt: "Your photo {n}: {name}",
    noPhotos: "You have not added any photos.",
    addPhoto: "Add a photo (optional)",
    addPhotoHint: "JPEG, PNG or WebP, at most 5 MB; up to 3 photos per ticket. Location and " +
      "camera details are removed before anyone sees it.",
    photoInvalid: "{name} is not a JPEG, PNG or WebP photo of at most 5 MB.",
    photoProgress: "Uploading {name}: {percent}%",
    photoFailed: "The photo was not added: {message}",
    photoUnreachable: "the service cannot be reached.",
  },
  zh: {
    looking: "正在查询工单……",
    numberRequired: "请输入工单号。",
    invalidNumber: "工单号无效，请检查是否输入有误。工单号的格式如 FB-3K7QM-9X2QT。",
    notFound: "没有这个工单号的工单，请核对回执上的工单号。",
    invalidKey: "查询密钥与该工单不符。请核对回执上的密钥，或不填密钥，只查看办理状态。",
    tooMany: "您的网络连接近期查询次数或密钥输错次数过多，请等几分钟后再试。",
    tooManyWait: "您的网络连接近期查询次数或密钥输错次数过多，请{wait}后再试。",
    waitSeconds: " {n} 秒",
    waitMinute: " 1 分钟",
    waitMinutes: " {n} 分钟",
    unreachable: "暂时连不上工单服务，请检查网络连接后重试。",
    serverError: "我们这边出了问题，请过几分钟再试。",
    ticketTitle: "工单 {number}",
    status: "办理状态",
    type: "类型",
    category: "类别",
    submitted: "提交时间",
    updated: "最近更新",
    firstResponse: "首次答复截止时间",
    resolution: "办结截止时间",
    timeline: "办理记录",
    timelineEmpty: "暂无公开的办理动态。",
    timelineLocked: "输入回执上的查询密钥，即可查看本工单的办理记录。",
    otherLanguage: "本工单使用英文提交。",
    otherLanguageLink: "View in English",
    by: "{actor}",
    actors: { submitter: "您", staff: "工作人员", system: "系统" },
    statuses: {
      received: "已收到：等待受理",
      acknowledged: "已受理：已转交相关部门",
      in_progress: "办理中",
      awaiting_info: "待您补充信息",
      resolved: "已办结",
      closed: "已结案",
      reopened: "重新办理",
      rejected: "不予受理",
      merged: "已与其他工单合并",
    },
    types: {
      complaint: "投诉",
      suggestion: "建议",
      inquiry: "咨询",
      praise: "表扬",
      report: "报修",
    },
    kinds: {
      submitted: "已提交",
      acknowledged: "已受理",
      status_changed: "状态变更",
      reply: "答复",
      message: "补充信息",
      info_requested: "请求补充信息",
      resolved: "已办结",
      reopened: "重新办理",
      closed: "已结案",
      rejected: "不予受理",
      merged: "已合并",
      rating: "已评价",
      attachment_added: "已添加照片",
    },
    photos: "您的照片",
    photoAlt: "您的照片 {n}：{name}",
    noPhotos: "您还没有添加照片。",
    addPhoto: "添加照片（选填）",
    addPhotoHint: "JPEG、PNG 或 WebP 格式，每张不超过 5 MB；每个工单最多 3 张。" +
      "照片中的位置和相机信息会在任何人看到之前删除。",
    photoInvalid: "{name} 不是不超过 5 MB 的 JPEG、PNG 或 WebP 照片。",
    photoProgress: "正在上传 {name}：{percent}%",
    photoFailed: "照片未能添加：{message}",
    photoUnreachable: "暂时连不上服务。",
  },
};

const label = (table, code) => (code && Object.hasOwn(table, code) ? table[code] : code || "");

// Material re-renders the page when the fragment first changes (instant navigation sees a
// popstate), so one fragment change can start two lookups: they share one request.
const SHARE_MS = 3000;
let recent = null;
function fetchShared(number, key) {
  const id = `${number} ${key}`;
  if (!recent || recent.id !== id || performance.now() - recent.at > SHARE_MS) {
    recent = { id, at: performance.now(), response: getTicket(number, key) };
  }
  return recent.response;
}

function readFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  return { number: params.get("number") || "", key: params.get("key") || "" };
}

async function categoryLabel(code) {
  // Best effort: show the category's name, or its code when the list is unavailable.
  const result = await getCategories();
  for (const parent of result.data?.categories || []) {
    if (parent.code === code) return categoryName(parent);
    for (const child of parent.children || []) {
      if (child.code === code) return `${categoryName(parent)}: ${categoryName(child)}`;
    }
  }
  return code || "";
}

function initTrack(root) {
  const m = pickMessages(MESSAGES);
  const $ = (id) => root.querySelector(`#${id}`);
  const form = $("tr-form");
  const numberInput = $("tr-number");
  const keyInput = $("tr-key");
  const numberError = $("tr-number-error");
  const status = $("tr-status");
  const alertBox = $("tr-alert");
  const result = $("tr-result");
  let request = 0;

  function setNumberError(message) {
    numberError.textContent = message;
    numberError.hidden = !message;
    if (message) {
      numberInput.setAttribute("aria-invalid", "true");
      numberInput.setAttribute("aria-describedby", "tr-number-error tr-number-hint");
    } else {
      numberInput.removeAttribute("aria-invalid");
      numberInput.setAttribute("aria-describedby", "tr-number-hint");
    }
  }
  function showAlert(message) {
    alertBox.textContent = message;
    alertBox.hidden = !message;
  }

  async function lookUp(number, key, { focusResult, shared = false }) {
    const mine = ++request; // a later lookup wins over a slower earlier one
    result.hidden = true;
    showAlert("");
    setNumberError("");
    if (!number) {
      setNumberError(m.numberRequired);
      numberInput.focus();
      return;
    }
    status.textContent = m.looking;
    const response = await (shared ? fetchShared(number, key) : getTicket(number, key));
    if (mine !== request) return;
    status.textContent = "";
    if (response.ok && response.data?.number) {
      await render(response.data, Boolean(key), key);
      if (mine !== request) return;
      result.hidden = false;
      if (focusResult) result.querySelector("h2").focus();
      return;
    }
    const code = response.error?.code;
    if (response.status === 400 || code === "invalid_number") {
      setNumberError(m.invalidNumber);
      showAlert(m.invalidNumber);
    } else if (response.status === 404) {
      setNumberError(m.notFound);
      showAlert(m.notFound);
    } else if (response.status === 403 || code === "invalid_key") {
      showAlert(m.invalidKey);
    } else if (response.status === 429) {
      showAlert(tooManyMessage(m, response.retryAfter));
    } else if (response.status === 0) {
      showAlert(m.unreachable);
    } else {
      showAlert(m.serverError);
    }
  }

  // With the key: the submitter's photos, and a control to add one while the ticket is open.
  async function photos(ticket, key) {
    const { MAX_BYTES, MAX_COUNT, TYPES, photoList, uploadPhoto } = await import("./photos.js");
    const list = ticket.attachments;
    const out = [h("h3", {}, m.photos), list.length ? photoList(list, m.photoAlt) : h("p", {}, m.noPhotos)];
    if (["closed", "rejected", "merged"].includes(ticket.status) || list.length >= MAX_COUNT) return out;
    const input = h("input", { type: "file", id: "tr-photo", accept: TYPES.join(","), "aria-describedby": "tr-photo-hint" });
    const note = h("p", { class: "cl-status", id: "tr-photo-status", role: "status" });
    input.addEventListener("change", async () => {
      const file = input.files[0];
      if (!file) return;
      if (!TYPES.includes(file.type) || file.size > MAX_BYTES) {
        note.textContent = format(m.photoInvalid, { name: file.name });
        return;
      }
      input.disabled = true;
      const progress = (share) => { note.textContent = format(m.photoProgress, { name: file.name, percent: Math.round(share * 100) }); };
      const r = await uploadPhoto(ticket.number, key, file, progress);
      input.disabled = false;
      if (r.ok) lookUp(ticket.number, key, { focusResult: false });
      else note.textContent = format(m.photoFailed, { message: r.error?.message || m.photoUnreachable });
    });
    out.push(h("div", { class: "cl-field" }, h("label", { for: "tr-photo" }, m.addPhoto),
      h("p", { class: "cl-hint", id: "tr-photo-hint" }, m.addPhotoHint), input, note));
    return out;
  }

  async function render(ticket, withKey, key = "") {
    const deadlines = ticket.deadlines || {};
    const row = (name, value) => value && [h("dt", {}, name), h("dd", {}, value)];
    const facts = h("dl", { class: "cl-facts" },
      row(m.status, h("strong", { class: "cl-ticket-status" }, label(m.statuses, ticket.status))),
      row(m.type, label(m.types, ticket.type)),
      row(m.category, ticket.category && (await categoryLabel(ticket.category))),
      row(m.submitted, ticket.submitted_at && timeElement(ticket.submitted_at)),
      row(m.updated, ticket.updated_at && timeElement(ticket.updated_at)),
      row(m.firstResponse, deadlines.first_response && timeElement(deadlines.first_response)),
      row(m.resolution, deadlines.resolution && timeElement(deadlines.resolution)));
    let history;
    if (Array.isArray(ticket.timeline)) {
      history = ticket.timeline.length
        ? h("ol", { class: "cl-timeline" }, ticket.timeline.map((event) =>
          h("li", { "data-kind": event.kind || "" },
            h("p", { class: "cl-timeline-head" },
              h("strong", {}, label(m.kinds, event.kind)), " ",
              event.at && timeElement(event.at), " ",
              event.actor && h("span", { class: "cl-hint" }, format(m.by, { actor: label(m.actors, event.actor) }))),
            event.text && h("p", { class: "cl-timeline-text" }, event.text))))
        : h("p", {}, m.timelineEmpty);
    } else {
      history = h("p", {}, withKey ? m.timelineEmpty : m.timelineLocked);
    }
    // A ticket written in the other language: offer its own language's page (same fragment).
    const own = ticket.language && ticket.language !== language()
      ? h("p", { class: "cl-hint", "data-ticket-language": ticket.language },
        m.otherLanguage, " ",
        h("a", { href: pageUrl("track/", ticket.language).pathname + location.hash, hreflang: ticket.language, lang: ticket.language }, m.otherLanguageLink))
      : null;
    result.replaceChildren(
      h("h2", { id: "tr-result-title", tabindex: "-1" }, format(m.ticketTitle, { number: ticket.number })),
      own,
      facts,
      h("h3", {}, m.timeline),
      history,
      ...(Array.isArray(ticket.attachments) && withKey ? await photos(ticket, key) : []));
  }

  function fromFragment({ focusResult }) {
    const { number, key } = readFragment();
    if (!number) return;
    numberInput.value = number;
    keyInput.value = key;
    lookUp(tidyCode(number), tidyCode(key), { focusResult, shared: true });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const number = tidyCode(numberInput.value);
    const key = tidyCode(keyInput.value);
    // Reflect the number (never a typed key) in the address so the page can be bookmarked.
    if (number) history.replaceState(history.state, "", `#number=${encodeURIComponent(number)}`);
    lookUp(number, key, { focusResult: true });
  });
  $("tr-submit").disabled = false;
  fromFragment({ focusResult: false });
  root.addEventListener("clearloop:hashchange", () => fromFragment({ focusResult: true }));
}

// One window listener for the whole visit (the widget itself is replaced on instant navigation).
window.addEventListener("hashchange", () => {
  document.querySelector('[data-clearloop="track"]')
    ?.dispatchEvent(new CustomEvent("clearloop:hashchange"));
});

onEachPage('[data-clearloop="track"]', initTrack);
