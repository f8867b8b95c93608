// 分类处理页面的文字（简体中文），以英文原文为键（见 staff-core.js 的 tr()）。
export default {
  "Opening {number}…": "正在打开 {number}…",
  "{status} · version {version}": "{status} · 第 {version} 版",
  "Unassigned": "未分配",
  "{name} ({role})": "{name}（{role}）",
  "Nothing to save: no field was changed.": "没有需要保存的内容：未修改任何字段。",
  "Saving…": "正在保存…",
  "Triage saved.": "分类已保存。",
  "Not saved: {problem}": "未保存：{problem}",
  "Not saved: the ticket changed after you opened it.": "未保存：打开工单后，工单已被修改。",
  "Status": "状态",
  "(not edited)": "（未修改）",
  " (changed by someone else)": "（已被他人修改）",
  "Reloaded: the form shows the current values.": "已重新加载：表单显示的是当前内容。",
};
