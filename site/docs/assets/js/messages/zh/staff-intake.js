// 登记线下意见页面的文字（简体中文），以英文原文为键（见 staff-core.js 的 tr()）。
export default {
  "could not be loaded: the API cannot be reached.": "无法加载：无法连接 API。",
  "Choose a category": "请选择类别",
  "Recording…": "正在登记…",
  "The feedback was not recorded: {problem}": "意见反馈未登记：{problem}",
};
