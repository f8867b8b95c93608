// Photos for a ticket (issue #12): an accessible file picker with previews and the server's
// type, size and count checks, then uploads straight to storage with progress for each file.
// The API gives a signed form per photo; the browser posts the file to it (S3 on AWS, the
// API's local stand-in otherwise) and asks the API to verify and record it.
import { apiBase, call, format, h, pickMessages } from "./api.js";

const MESSAGES = {
  en: {
    remove: "Remove",
    removeLabel: "Remove {name}",
    preview: "Preview of {name}",
    type: "{name} is not a JPEG, PNG or WebP photo.",
    size: "{name} is larger than {max} MB.",
    count: "You can add at most {max} photos.",
    progress: "Uploading {name}",
    done: "Attached",
    failed: "Not attached: {message}",
    refused: "the upload was refused",
    unreachable: "the service cannot be reached",
  },
  zh: {
    remove: "移除",
    removeLabel: "移除 {name}",
    preview: "{name} 的预览",
    type: "{name} 不是 JPEG、PNG 或 WebP 格式的照片。",
    size: "{name} 超过 {max} MB。",
    count: "最多只能添加 {max} 张照片。",
    progress: "正在上传 {name}",
    done: "已上传",
    failed: "未能上传：{message}",
    refused: "上传被拒绝",
    unreachable: "暂时连不上服务",
  },
};

const TIMEOUT_MS = 120000;
export const TYPES = ["image/jpeg", "image/png", "image/webp"];
export const MAX_BYTES = 5 * 1048576; // the server's defaults (api/chalicelib/config.py)
export const MAX_COUNT = 3;

function styles() {
  if (document.getElementById("cl-photos-css")) return;
  document.head.append(h("link", { id: "cl-photos-css", rel: "stylesheet", href: new URL("../css/photos.css", import.meta.url) }));
}
const megabytes = (bytes) => Math.round((bytes / 1048576) * 10) / 10;

/** Resolve a form or link URL from the API: an absolute URL (S3) or a path on the API. */
export const apiUrl = (url) => (url.startsWith("/") ? apiBase() + url : url);

function post({ url, fields }, file, onProgress) {
  return new Promise((resolve) => {
    const data = new FormData();
    for (const [name, value] of Object.entries(fields)) data.append(name, value);
    data.append("file", file); // last, as S3 requires
    const xhr = new XMLHttpRequest();
    xhr.open("POST", apiUrl(url));
    xhr.timeout = TIMEOUT_MS;
    xhr.upload.addEventListener("progress", (e) => e.lengthComputable && onProgress(e.loaded / e.total));
    xhr.addEventListener("load", () => resolve(xhr.status));
    for (const end of ["error", "timeout", "abort"]) xhr.addEventListener(end, () => resolve(0));
    xhr.send(data);
  });
}

/** Upload one photo to a ticket: {ok, status, data, error} of the last step. */
export async function uploadPhoto(number, key, file, onProgress = () => {}) {
  const path = `/v1/tickets/${encodeURIComponent(number)}/attachments`;
  const headers = { "X-Ticket-Key": key };
  const form = await call("POST", path, { body: { content_type: file.type, size: file.size }, headers });
  if (!form.ok) return form;
  const status = await post(form.data, file, onProgress);
  if (status < 200 || status >= 300) return { ok: false, status, data: null, error: null };
  onProgress(1);
  return call("POST", `${path}/${encodeURIComponent(form.data.attachment_id)}/complete`, {
    body: { filename: file.name }, headers,
  });
}

/**
 * Wire a file input: previews of the chosen photos (object URLs, never uploaded before the
 * ticket exists), checks mirroring the server's, a remove button for each. ``setError(text)``
 * shows a problem by the field. Returns {files(), upload(number, key)}.
 */
export function photoPicker(input, list, setError) {
  const m = pickMessages(MESSAGES);
  const types = input.accept.split(",").map((t) => t.trim());
  const maxBytes = Number(input.dataset.maxBytes);
  const maxCount = Number(input.dataset.maxCount);
  let chosen = [];
  styles();

  function item(entry) {
    const name = entry.file.name;
    const remove = h("button", { type: "button", class: "md-button cl-small", "aria-label": format(m.removeLabel, { name }) }, m.remove);
    remove.addEventListener("click", () => {
      URL.revokeObjectURL(entry.url);
      chosen = chosen.filter((c) => c !== entry);
      render();
      input.focus();
    });
    entry.progress = h("progress", { max: 1, value: 0, "aria-label": format(m.progress, { name }), hidden: true });
    entry.state = h("span", { class: "cl-photo-state" });
    entry.remove = remove;
    return h("li", { class: "cl-photo" },
      h("img", { src: entry.url, alt: format(m.preview, { name }), width: 96, height: 96 }),
      h("span", { class: "cl-photo-name" }, `${name} (${megabytes(entry.file.size)} MB)`),
      entry.progress, entry.state, remove);
  }

  function render() {
    list.replaceChildren(...chosen.map(item));
    input.disabled = chosen.length >= maxCount;
  }

  input.addEventListener("change", () => {
    const problems = [];
    for (const file of input.files) {
      if (!types.includes(file.type)) problems.push(format(m.type, { name: file.name }));
      else if (file.size > maxBytes) problems.push(format(m.size, { name: file.name, max: megabytes(maxBytes) }));
      else if (chosen.length >= maxCount) {
        problems.push(format(m.count, { max: maxCount }));
        break;
      } else chosen.push({ file, url: URL.createObjectURL(file) });
    }
    input.value = ""; // the list holds the choice; the same file may be chosen again later
    setError(problems.join(" "));
    render();
  });

  async function upload(number, key) {
    const results = [];
    for (const entry of chosen) {
      entry.remove.hidden = true;
      entry.progress.hidden = false;
      const r = await uploadPhoto(number, key, entry.file, (share) => { entry.progress.value = share; });
      entry.progress.hidden = true;
      const why = r.error?.message || (r.status === 0 ? m.unreachable : m.refused);
      entry.state.textContent = r.ok ? m.done : format(m.failed, { message: why });
      results.push({ name: entry.file.name, ok: r.ok, message: r.ok ? "" : why });
    }
    return results;
  }

  return { files: () => chosen.map((c) => c.file), upload };
}

/** Thumbnails linking to the full photos (links expire after a few minutes: reload for new ones). */
export function photoList(attachments, label = "Photo {n}") {
  styles();
  return h("ul", { class: "cl-photos" }, attachments.map((a, i) => h("li", { class: "cl-photo" },
    h("a", { href: apiUrl(a.url), target: "_blank", rel: "noopener" },
      h("img", { src: apiUrl(a.thumbnail_url), alt: format(label, { n: i + 1, name: a.filename || "" }), width: 160 })))));
}
