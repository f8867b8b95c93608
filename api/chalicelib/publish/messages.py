"""Texts of the published pages (transparency page, resolved-issue board), by language and key.

Both languages have exactly the same keys (``tests/unit/test_i18n_parity.py``). Templates are
trusted markup: a text may hold HTML (a link, ``<strong>``); its ``{name}`` slots are filled with
escaped values (``publish.locale.PageLanguage.t``), so nothing a person wrote is ever markup.
Texts staff wrote (board summaries and resolutions) are published as written, in one language.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "site_name": "{site}",
        "language_name": "English",
        "select_language": "Select language",
        "skip": "Skip to content",
        "nav.label": "Site",
        "nav.home": "Home",
        "nav.give_feedback": "Give feedback",
        "nav.track": "Track a ticket",
        "nav.transparency": "Transparency",
        "nav.board": "Resolved issues",
        "nav.open_data": "Open data",
        "feed_title": "{site}: resolved issues",
        "generated": (
            'Generated at <time datetime="{iso}">{text}</time>. These pages are published every'
            " hour; days are counted in the {zone} time zone."
        ),
        "footer": (
            "{site} publishes these figures as they are, including the unflattering ones."
            ' <a href="{privacy}">Privacy notice</a>'
        ),
        # Periods, durations, charts.
        "period.last_days": "Last {n} days",
        "period.so_far": "{month} (so far)",
        "duration.none": "—",
        "chart.same_numbers": "The same numbers are in the table below.",
        "chart.volume.title": "Feedback received and resolved per day, last 30 days",
        "chart.volume.description": (
            "Bars: received and resolved each day; line: tickets open at the end of the day."
        ),
        "chart.received": "Received",
        "chart.resolved": "Resolved",
        "chart.backlog": "Open backlog",
        "chart.trend.title": "On-time rates by month",
        "chart.trend.description": (
            "For each month: on-time first response, on-time resolution and resolution rate, in %."
        ),
        "rate.on_time_response": "On-time first response",
        "rate.on_time_resolution": "On-time resolution",
        "rate.resolution_rate": "Resolution rate",
        # Channels.
        "channel.web": "Website",
        "channel.phone": "Phone",
        "channel.email": "E-mail",
        "channel.letter": "Letter",
        "channel.box": "Suggestion box",
        "channel.in_person": "In person",
        "channel.open311": "Open311 apps",
        "all_feedback": "All feedback",
        # Tables.
        "of": "{n} of {d}",
        "of_ratings": "{n} of {d} ratings",
        "col.new": "New",
        "col.resolved": "Resolved",
        "col.open_at_end": "Open at end",
        "col.median_first_response": "Median first response",
        "col.median_resolution": "Median resolution",
        "col.satisfaction": "Satisfaction",
        "col.reopened": "Reopened",
        "col.breaches": "SLA breaches",
        "col.month": "Month",
        "col.category": "Category",
        "col.channel": "Channel",
        "col.place": "Place",
        "col.department": "Department",
        "col.rank": "{rate} (rank)",
        "col.day": "Day",
        "col.open_end_of_day": "Open at end of day",
        "no_rank": "no rank",
        # The transparency page.
        "tr.description": (
            "Published figures on how feedback is handled: volumes, on-time rates, resolution"
            " and satisfaction."
        ),
        "tr.title": "Transparency",
        "tr.title_period": "Transparency: {period}",
        "tr.intro": (
            "How we handled feedback in <strong>{period}</strong> ({first} to {last}). Every rate"
            " is shown with the counts it is made of; how each one is calculated is explained"
            ' <a href="#how-to-read">below</a>.'
        ),
        "tr.periods": "Periods",
        "tr.period": "Period:",
        "tr.glance": "At a glance",
        "tr.glance.response": (
            "{on_time} answered on time, of {handled} answered and {overdue} still waiting past"
            " the deadline"
        ),
        "tr.glance.resolution": (
            "{on_time} resolved on time, of {handled} resolved and {overdue} still open past the"
            " deadline"
        ),
        "tr.glance.rate": (
            "{resolved} resolved of {base} (received {received}, minus {merged} duplicates and"
            " {spam} spam; {other} rejected as out of scope count as not resolved)"
        ),
        "tr.glance.satisfaction_title": "Satisfaction",
        "tr.glance.satisfaction": "{satisfied} of {ratings} ratings were 4 or 5",
        "tr.glance.response_time_title": "Time to first response",
        "tr.glance.response_time": "median; mean {mean}; {count} responses",
        "tr.glance.resolution_time_title": "Time to resolve",
        "tr.glance.resolution_time": "median; mean {mean}; {count} resolutions",
        "tr.glance.volume_title": "Volume",
        "tr.glance.volume": "new; {resolved} resolutions; {backlog} open at the end of the period",
        "tr.glance.reopened_title": "Reopened and breaches",
        "tr.glance.reopened": (
            "{reopened} of {resolved} resolutions were reopened; {response} first-response and"
            " {resolution} resolution deadlines missed"
        ),
        "tr.volume": "New, resolved and open, day by day",
        "tr.volume.summary": "Data table: new, resolved and open per day",
        "tr.volume.caption": "New, resolved and open backlog per day, last 30 days",
        "tr.trends": "Month by month",
        "tr.trends.caption": "Every figure by month (the same numbers as the chart, and more)",
        "tr.by_category": "By category",
        "tr.by_category.caption": "By category, {period}",
        "tr.by_channel": "By channel",
        "tr.by_channel.caption": "By channel (how the feedback reached us), {period}",
        "tr.by_department": "By department, ranked",
        "tr.by_department.intro": (
            "Departments are ranked on each of the three rates (1 is best; a department with"
            " nothing to count for a rate has no rank for it), and ordered by the average of"
            " their ranks."
        ),
        "tr.by_department.caption": "Departments ranked on the three rates, {period}",
        "tr.how": "How to read these figures",
        "tr.how.volume": "New, resolved, open",
        "tr.how.volume.text": (
            "New: feedback received in the period. Resolved: resolutions made in the period (a"
            " ticket reopened and resolved again counts twice). Open: tickets not yet resolved,"
            " rejected or merged at the end of the period (or day), including those waiting for"
            " information from the person who wrote."
        ),
        "tr.how.response.text": (
            "First responses made within the deadline, divided by all first responses made in"
            " the period <strong>plus the tickets still waiting for one past their deadline at"
            " the end of the period</strong>. An overdue ticket left open counts against the rate"
            " for as long as it stays open, so leaving hard cases unanswered never improves it."
        ),
        "tr.how.resolution.text": (
            "The same for resolutions: resolved within the deadline, divided by resolutions made"
            " plus tickets still open past their resolution deadline at the end of the period."
            " Time spent waiting for information from the person who wrote does not count"
            " towards a deadline; a reopened ticket gets a new deadline."
        ),
        "tr.how.rate.text": (
            "Of the feedback received in the period, the share now resolved or closed."
            " Duplicates merged into another ticket and feedback rejected as spam are left out"
            " of the count; feedback rejected as out of scope stays in it and counts as not"
            " resolved."
        ),
        "tr.how.times": "Times to respond and resolve",
        "tr.how.times.text": (
            "Median (the middle value) and mean of the calendar time from submission (or from a"
            " reopening) to the first response or the resolution, for those made in the period."
            " It includes nights, weekends and time waiting for information."
        ),
        "tr.how.satisfaction.text": (
            "Ratings of 4 or 5 out of 5 (satisfied or very satisfied), divided by all ratings"
            " given in the period. Rating is optional, so the number of ratings is shown with it."
        ),
        "tr.how.reopened.text": (
            "Resolutions made in the period that the person who wrote later reopened by rating"
            " them 1 or 2, divided by all resolutions made in the period."
        ),
        "tr.how.breaches.text": (
            "First-response and resolution deadlines that fell in the period and passed unmet. A"
            " breach stays counted even if the ticket was handled later."
        ),
        "tr.data": "Open data",
        "tr.data.intro": (
            "All figures are available as files, free to reuse; their fields are described in"
            ' the <a href="{schema}">schema</a> and on the <a href="{page}">open data page</a>.'
        ),
        "tr.data.metrics": (
            ": every figure, for the last 30 days and each month, overall and by category,"
            " channel and department"
        ),
        "tr.data.daily": ": new, resolved and open per day for the last 30 days",
        "tr.data.board": (
            ': the <a href="{board}">resolved-issue board</a> (also as an'
            ' <a href="{feed}">Atom feed</a>)'
        ),
        "and": " and ",
        # The board.
        "board.description": (
            "Resolved issues: what people told us and what was done, published with their consent."
        ),
        "board.title": "Resolved issues",
        "board.title_with": "Resolved issues: {parts}",
        "board.title_separator": ", ",
        "board.intro": (
            "Feedback that was resolved, published with the consent of the person who wrote it"
            " and approved by a supervisor. Personal details (names, e-mail addresses, phone and"
            " ID numbers) are removed before anything is published."
        ),
        "board.count_one": "{n} item",
        "board.count_other": "{n} items",
        "board.page_of": ", page {page} of {pages}",
        "board.also": (
            '. Also as an <a href="{feed}">Atom feed</a> and as <a href="{data}">open data</a>.'
        ),
        "board.filter_category": "Filter by category",
        "board.filter_month": "Filter by month",
        "board.category": "Category:",
        "board.month": "Month:",
        "board.all": "All",
        "board.empty": "Nothing has been published here yet.",
        "board.meta": "{category} · resolved {resolved} · took {took}",
        "board.rated": " · rated {rating} of 5",
        "board.pages": "Pages",
        "board.previous": "Previous",
        "board.next": "Next",
        "item.description": "A resolved issue: what was reported and what was done.",
        "item.title": "Resolved issue: {category}",
        "item.back": "All resolved issues",
        "item.reported": "What was reported",
        "item.done": "What was done",
        "item.photos": "Photos",
        "item.photo_alt": "Photo {n} of the issue",
        "item.received": "Received",
        "item.resolved": "Resolved",
        "item.time": "Time to resolve",
        "item.rating": "Rating",
        "item.rating_value": "{rating} of 5",
        "item.not_rated": "not rated",
    },
    "zh": {
        "site_name": "{site} 意见反馈",
        "language_name": "简体中文",
        "select_language": "选择语言",
        "skip": "跳转至正文",
        "nav.label": "网站",
        "nav.home": "首页",
        "nav.give_feedback": "意见反馈",
        "nav.track": "查询进度",
        "nav.transparency": "办理情况公开",
        "nav.board": "已办结事项",
        "nav.open_data": "开放数据",
        "feed_title": "{site}：已办结事项",
        "generated": (
            '生成时间：<time datetime="{iso}">{text}</time>。本页每小时更新一次；'
            "日期按 {zone} 时区计算。"
        ),
        "footer": ('{site} 如实公布这些数据，包括不理想的数据。<a href="{privacy}">隐私声明</a>'),
        "period.last_days": "最近 {n} 天",
        "period.so_far": "{month}（截至目前）",
        "duration.none": "—",
        "chart.same_numbers": "下方表格列出了相同的数据。",
        "chart.volume.title": "最近 30 天每天收到和办结的意见反馈",
        "chart.volume.description": (
            "柱形：每天收到和办结的数量；折线：每天结束时仍未办结的工单数。"
        ),
        "chart.received": "收到",
        "chart.resolved": "办结",
        "chart.backlog": "未办结",
        "chart.trend.title": "各月按时率",
        "chart.trend.description": "每个月的首次答复按时率、按时办结率和办结率（%）。",
        "rate.on_time_response": "首次答复按时率",
        "rate.on_time_resolution": "按时办结率",
        "rate.resolution_rate": "办结率",
        "channel.web": "网站",
        "channel.phone": "电话",
        "channel.email": "电子邮件",
        "channel.letter": "信件",
        "channel.box": "意见箱",
        "channel.in_person": "现场",
        "channel.open311": "Open311 应用",
        "all_feedback": "全部意见反馈",
        "of": "{d} 件中 {n} 件",
        "of_ratings": "{d} 个评价中 {n} 个",
        "col.new": "新收到",
        "col.resolved": "办结",
        "col.open_at_end": "期末未办结",
        "col.median_first_response": "首次答复时间中位数",
        "col.median_resolution": "办结时间中位数",
        "col.satisfaction": "满意率",
        "col.reopened": "重新打开",
        "col.breaches": "超时次数",
        "col.month": "月份",
        "col.category": "类别",
        "col.channel": "渠道",
        "col.place": "名次",
        "col.department": "部门",
        "col.rank": "{rate}（排名）",
        "col.day": "日期",
        "col.open_end_of_day": "当天结束时未办结",
        "no_rank": "无排名",
        "tr.description": "意见反馈办理情况的公开数据：数量、按时率、办结率和满意率。",
        "tr.title": "办理情况公开",
        "tr.title_period": "办理情况公开：{period}",
        "tr.intro": (
            "<strong>{period}</strong>（{first}至{last}）的意见反馈办理情况。每个比率都同时列出"
            '计算它的数量；各项指标的计算方法见<a href="#how-to-read">下文</a>。'
        ),
        "tr.periods": "统计期间",
        "tr.period": "统计期间：",
        "tr.glance": "概览",
        "tr.glance.response": (
            "已答复 {handled} 件，其中按时 {on_time} 件；另有 {overdue} 件超过期限仍在等待答复"
        ),
        "tr.glance.resolution": (
            "已办结 {handled} 件，其中按时 {on_time} 件；另有 {overdue} 件超过期限仍未办结"
        ),
        "tr.glance.rate": (
            "{base} 件中已办结 {resolved} 件（收到 {received} 件，减去重复 {merged} 件和垃圾信息"
            " {spam} 件；因不属受理范围而驳回的 {other} 件计为未办结）"
        ),
        "tr.glance.satisfaction_title": "满意率",
        "tr.glance.satisfaction": "{ratings} 个评价中 {satisfied} 个为 4 分或 5 分",
        "tr.glance.response_time_title": "首次答复时间",
        "tr.glance.response_time": "中位数；平均 {mean}；共 {count} 次答复",
        "tr.glance.resolution_time_title": "办结时间",
        "tr.glance.resolution_time": "中位数；平均 {mean}；共 {count} 次办结",
        "tr.glance.volume_title": "数量",
        "tr.glance.volume": "件新收到；办结 {resolved} 次；期末未办结 {backlog} 件",
        "tr.glance.reopened_title": "重新打开与超时",
        "tr.glance.reopened": (
            "{resolved} 次办结中有 {reopened} 次被重新打开；首次答复超时 {response} 次，"
            "办结超时 {resolution} 次"
        ),
        "tr.volume": "每天新收到、办结和未办结数量",
        "tr.volume.summary": "数据表：每天新收到、办结和未办结数量",
        "tr.volume.caption": "最近 30 天每天新收到、办结和未办结的数量",
        "tr.trends": "各月情况",
        "tr.trends.caption": "各月全部数据（与图表相同，且更完整）",
        "tr.by_category": "按类别",
        "tr.by_category.caption": "按类别，{period}",
        "tr.by_channel": "按渠道",
        "tr.by_channel.caption": "按渠道（意见反馈的来源），{period}",
        "tr.by_department": "按部门排名",
        "tr.by_department.intro": (
            "各部门按三项比率分别排名（第 1 名最好；某项比率没有可统计数据的部门在该项不排名），"
            "再按各项排名的平均值排序。"
        ),
        "tr.by_department.caption": "各部门三项比率排名，{period}",
        "tr.how": "如何理解这些数据",
        "tr.how.volume": "新收到、办结、未办结",
        "tr.how.volume.text": (
            "新收到：期间内收到的意见反馈。办结：期间内的办结次数（重新打开后再次办结的工单计两次）。"
            "未办结：期末（或当天结束时）尚未办结、驳回或合并的工单，包括正在等待提交人补充信息的工单。"
        ),
        "tr.how.response.text": (
            "在期限内作出的首次答复，除以期间内作出的全部首次答复<strong>加上期末已超过期限仍在等待"
            "首次答复的工单</strong>。超期未答复的工单只要仍未处理就一直计入分母，因此搁置难办的"
            "工单永远不会提高这一比率。"
        ),
        "tr.how.resolution.text": (
            "办结的计算方法相同：在期限内办结的次数，除以办结次数加上期末已超过办结期限仍未办结的"
            "工单。等待提交人补充信息的时间不计入期限；重新打开的工单有新的期限。"
        ),
        "tr.how.rate.text": (
            "期间内收到的意见反馈中，目前已办结或已关闭的比例。合并到其他工单的重复反馈和被判定为"
            "垃圾信息的反馈不计入；因不属受理范围而驳回的反馈仍计入，并计为未办结。"
        ),
        "tr.how.times": "答复和办结时间",
        "tr.how.times.text": (
            "期间内作出的首次答复或办结，从提交（或重新打开）起算的自然时间的中位数和平均值，"
            "包括夜间、周末和等待补充信息的时间。"
        ),
        "tr.how.satisfaction.text": (
            "4 分或 5 分（满意或非常满意）的评价数，除以期间内的全部评价数。评价是自愿的，"
            "因此同时列出评价数量。"
        ),
        "tr.how.reopened.text": (
            "期间内的办结中，后来被提交人以 1 分或 2 分评价而重新打开的次数，"
            "除以期间内的全部办结次数。"
        ),
        "tr.how.breaches.text": (
            "期间内到期而未完成的首次答复和办结期限。即使工单后来办理了，超时仍然计入。"
        ),
        "tr.data": "开放数据",
        "tr.data.intro": (
            "全部数据均以文件形式公开，可自由再利用；"
            '各字段的含义见<a href="{schema}">数据结构说明</a>和<a href="{page}">开放数据页面</a>。'
        ),
        "tr.data.metrics": (
            "：全部数据，包括最近 30 天和各月的总体数据，以及按类别、渠道和部门的数据"
        ),
        "tr.data.daily": "：最近 30 天每天新收到、办结和未办结的数量",
        "tr.data.board": (
            '：<a href="{board}">已办结事项</a>（也提供 <a href="{feed}">Atom 订阅源</a>）'
        ),
        "and": "和",
        "board.description": "已办结事项：大家反映的问题和办理结果，经提交人同意后公开。",
        "board.title": "已办结事项",
        "board.title_with": "已办结事项：{parts}",
        "board.title_separator": "，",
        "board.intro": (
            "已办结的意见反馈，经提交人同意并由主管审核后公开。公开前会删除个人信息"
            "（姓名、电子邮件地址、电话号码和证件号码）。"
        ),
        "board.count_one": "共 {n} 项",
        "board.count_other": "共 {n} 项",
        "board.page_of": "，第 {page} 页，共 {pages} 页",
        "board.also": (
            '。也提供 <a href="{feed}">Atom 订阅源</a>（英文）和<a href="{data}">开放数据</a>。'
        ),
        "board.filter_category": "按类别筛选",
        "board.filter_month": "按月份筛选",
        "board.category": "类别：",
        "board.month": "月份：",
        "board.all": "全部",
        "board.empty": "这里还没有公开的内容。",
        "board.meta": "{category} · {resolved}办结 · 用时 {took}",
        "board.rated": " · 评分 {rating}/5",
        "board.pages": "分页",
        "board.previous": "上一页",
        "board.next": "下一页",
        "item.description": "已办结事项：反映的问题和办理结果。",
        "item.title": "已办结事项：{category}",
        "item.back": "全部已办结事项",
        "item.reported": "反映的问题",
        "item.done": "办理结果",
        "item.photos": "照片",
        "item.photo_alt": "问题照片 {n}",
        "item.received": "收到日期",
        "item.resolved": "办结日期",
        "item.time": "办理用时",
        "item.rating": "评分",
        "item.rating_value": "{rating}/5",
        "item.not_rated": "未评分",
    },
}
