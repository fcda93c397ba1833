// The staff console: reads and acts through reporting's relay (/console/api/<service>/<path>, which
// calls the service with the session's token); redraws on every change the stream announces and
// every 30 s (offers near expiry change with time alone). Shows every refusal's reason.
"use strict";

const REFRESH_MS = 30000;
const TAGS = {
  living_alone: "独居", empty_nest: "空巢", left_behind_child: "留守儿童", disabled: "残疾",
  severely_disabled: "失能/重残", special_hardship: "计划生育特殊家庭/特困", elderly: "老年人", child: "儿童",
  woman_in_difficulty: "困境妇女",
};
const LEVELS = { grid: "网格", community: "社区", street: "街道", street_staff: "街道工作人员" };
const DISPUTES = {
  neighbour: "邻里纠纷", family: "家庭纠纷", property_management: "物业纠纷", noise: "噪音纠纷", parking: "停车纠纷",
  debt: "债务纠纷", other: "其他纠纷",
};
const OUTCOMES = { agreement: "达成协议", no_agreement: "未达成协议" };
const SATISFACTION = { satisfied: "满意", basically_satisfied: "基本满意", dissatisfied: "不满意" };
const URGENCY = { normal: "普通", high: "紧急", emergency: "特急" };
const VISIT_STATES = { visited: "已走访", assigned: "已指派", not_yet: "未安排" };
const STATUSES = {
  received: "已受理", offered: "派单中", assigned: "已指派", completed: "已完成", escalated: "已升级", missed: "错过",
  cancelled: "已取消", duplicate: "重复", handled_by_staff: "工作人员已处理", closed: "已结案", open: "进行中",
};
let me = null;
let categories = {};
let tab = "escalated";
let refreshing = null;

class Problem extends Error {}

// --- talking to the services ---------------------------------------------------------------------

function reasonOf(answer, status) {
  if (answer && typeof answer.error === "string") return answer.error;
  if (answer && typeof answer.detail === "string") return answer.detail;
  if (answer && Array.isArray(answer.detail)) {
    return answer.detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
  }
  return `出错了 (${status})`;
}

async function call(service, path, { method = "GET", body = null, params = null } = {}) {
  const query = params ? `?${new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v != null))}` : "";
  const response = await fetch(`/console/api/${service}/${path}${query}`, {
    method, headers: body ? { "Content-Type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined,
  });
  if (response.status === 401) location.reload();  // the session ended: the server shows the login page
  let answer = null;
  try { answer = await response.json(); } catch { answer = null; }
  if (!response.ok) throw new Problem(reasonOf(answer, response.status));
  return answer;
}

// --- drawing ---------------------------------------------------------------------------------------

function element(tag, attributes = {}, ...children) {
  const made = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined && value !== false) made.setAttribute(name, value === true ? "" : value);
  }
  made.append(...children.filter((child) => child !== null && child !== undefined));
  return made;
}

function when(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString("zh-CN", { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

function span(start, end) {
  return start ? `${when(start)} 至 ${when(end)}` : "不限时间";
}

function categoryName(row) {
  return row.category_name || categories[row.category] || row.category || "";
}

function tagNames(tags) {
  return (tags || []).map((tag) => TAGS[tag] || tag).join("、");
}

function show(target, problem) {
  const box = typeof target === "string" ? document.getElementById(target) : target;
  box.textContent = problem || "";
  box.hidden = !problem;
}

function notice(text) {
  const box = document.getElementById("notice");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

function line(label, value) {
  return element("p", { class: "line" }, element("span", { class: "label" }, label), String(value ?? "—"));
}

// --- actions -----------------------------------------------------------------------------------------

function field(label, input) {
  return element("label", {}, label, input);
}

function number(name, min, step) {
  return element("input", { type: "number", name, min, step, required: true, inputmode: "decimal" });
}

function note() {
  return field("备注", element("textarea", { name: "note", rows: "2", maxlength: "1000" }));
}

function choices(name, options, required = true) {
  const box = element("div", { class: "checks" });
  for (const [value, label] of Object.entries(options)) {
    box.append(element("label", { class: "check" }, element("input", { type: "radio", name, value, required }), ` ${label}`));
  }
  return box;
}

// Each action: its button's label, the form's fields, the call and its body from the form.
const ACTIONS = {
  assign: {
    label: "指派志愿者",
    fields: (item) => [
      field("志愿者", element("select", { name: "volunteer_id", required: true, "data-candidates": item.request_id },
        element("option", { value: "" }, "载入中…"))),
      element("label", { class: "check" }, element("input", { type: "checkbox", name: "agreed" }), " 电话已确认 (直接接单)"),
    ],
    opened: loadCandidates,
    send: (item, form) => call("matching", `requests/${item.request_id}/assign`, { method: "POST", body: {
      volunteer_id: form.volunteer_id.value, occurrence: item.occurrence ?? undefined, agreed: form.agreed.checked } }),
  },
  reopen: {
    label: "重新派单",
    fields: () => [element("p", {}, "再向本区域的志愿者派单 (如有新登记的志愿者)。")],
    send: (item) => call("matching", `requests/${item.request_id}/reopen`, { method: "POST",
      body: { occurrence: item.occurrence ?? undefined } }),
  },
  handled: {
    label: "工作人员已处理",
    fields: () => [field("服务时长 (小时)", number("hours", "0.1", "0.1")), field("服务人数", number("people_served", "1", "1")), note()],
    send: (item, form) => call("matching", `requests/${item.request_id}/handled`, { method: "POST", body: {
      occurrence: item.occurrence ?? undefined, hours: Number(form.hours.value),
      people_served: Number(form.people_served.value), note: form.note.value || undefined } }),
  },
  cancel: {
    label: "取消",
    fields: () => [field("取消原因", element("input", { name: "reason", required: true, maxlength: "500" }))],
    send: (item, form) => call("matching", `requests/${item.request_id}/cancel`, { method: "POST",
      body: { reason: form.reason.value } }),
  },
  duplicate: {
    label: "关联重复",
    fields: () => [field("与之重复的需求编号", element("input", { name: "duplicate_of", required: true, autocomplete: "off" }))],
    send: (item, form) => call("matching", `requests/${item.request_id}/duplicate`, { method: "POST",
      body: { duplicate_of: form.duplicate_of.value.trim() } }),
  },
  escalate: {
    label: "案件上报",
    fields: () => [note()],
    send: (item, form) => call("matching", `cases/${item.case_id}/escalate`, { method: "POST",
      body: { note: form.note.value || undefined } }),
  },
  close: {
    label: "结案",
    fields: () => [choices("outcome", OUTCOMES), field("调解时长 (小时)", number("hours", "0.1", "0.1")), note()],
    send: (item, form) => call("matching", `cases/${item.case_id}/close`, { method: "POST", body: {
      outcome: form.outcome.value, hours: Number(form.hours.value), note: form.note.value || undefined } }),
  },
  return_visit: {
    label: "回访",
    fields: () => [choices("satisfaction", SATISFACTION), note()],
    send: (item, form) => call("matching", `cases/${item.case_id}/return-visit`, { method: "POST", body: {
      satisfaction: form.satisfaction.value, note: form.note.value || undefined } }),
  },
};
const REQUEST_ACTIONS = ["assign", "reopen", "handled", "cancel", "duplicate"];
const DONE = {
  "request.staff_assigned": "已指派", "assignment.offered": "已向志愿者发出邀约", "assignment.accepted": "已指派 (已确认)",
  "request.reopened": "已重新派单", "request.handled_by_staff": "已记录为工作人员处理", "request.cancelled": "已取消",
  "request.duplicate": "已关联为重复", "case.escalated": "案件已上报", "case.closed": "已结案", "case.return_visited": "回访已记录",
};

async function loadCandidates(item, form) {
  const select = form.volunteer_id;
  try {
    const params = item.occurrence != null ? { occurrence: item.occurrence } : null;
    const candidates = await call("matching", `requests/${item.request_id}/candidates`, { params });
    // The unfit stay choosable (staff may know better); matching says why if it refuses.
    const options = candidates.map((c) => element("option", { value: c.volunteer_id, "data-fit": String(c.fit) },
      `${c.name}${c.team ? ` (${c.team})` : ""}${c.fit ? "" : ` — 不合适: ${c.why?.reason || c.why || ""}`}`));
    select.replaceChildren(element("option", { value: "" }, options.length ? "请选择" : "本区域暂无志愿者"), ...options);
  } catch (problem) {
    select.replaceChildren(element("option", { value: "" }, "无法载入"));
    show(form.querySelector(".problem"), problem.message);
  }
}

function openAction(article, item, name) {
  const action = ACTIONS[name];
  const form = element("form", { class: "action", "data-action": name },
    element("h4", {}, action.label), ...action.fields(item),
    element("div", { class: "buttons" }, element("button", { type: "submit" }, "提交"),
      element("button", { type: "button", class: "quiet", "data-close": "" }, "收起")),
    element("p", { class: "problem", hidden: true }));
  form.querySelector("[data-close]").addEventListener("click", () => closeAction(article));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const answer = await action.send(item, form);
      closeAction(article);
      notice(`${DONE[answer.done] || "已完成"}`);
      refresh();
    } catch (problem) {
      show(form.querySelector(".problem"), problem.message);
    } finally {
      button.disabled = false;
    }
  });
  article.querySelector(".panel").replaceChildren(form);
  article.dataset.open = name;
  if (action.opened) action.opened(item, form);
}

function closeAction(article) {
  article.querySelector(".panel").replaceChildren();
  delete article.dataset.open;
}

function actionBar(article, item, names) {
  if (!me.may_act) return null;
  const bar = element("div", { class: "actions" });
  for (const name of names) {
    const button = element("button", { type: "button", "data-open": name }, ACTIONS[name].label);
    button.addEventListener("click", () => openAction(article, item, name));
    bar.append(button);
  }
  return bar;
}

// --- the work queues -----------------------------------------------------------------------------

const QUEUES = {
  escalated: {
    key: (r) => `${r.request_id}:${r.occurrence}`,
    title: (r) => `${categoryName(r)} · ${r.community_code}`,
    lines: (r) => [
      element("p", { class: "reason", "data-reason-code": r.reason_code || "" }, r.reason || "—"),
      line("紧急程度", URGENCY[r.urgency] || r.urgency), line("服务时间", span(r.window_start, r.window_end)),
      line("需要/已接", `${r.needed ?? "—"} / ${r.accepted ?? 0}`), line("升级时间", when(r.escalated_at)),
      line("需求编号", r.request_id)],
    actions: REQUEST_ACTIONS,
  },
  missed: {
    key: (r) => `${r.request_id}:${r.occurrence}`,
    title: (r) => `${categoryName(r)} · ${r.community_code}`,
    lines: (r) => [line("服务时间", span(r.window_start, r.window_end)), line("错过时间", when(r.missed_at)),
      line("需求编号", r.request_id)],
    actions: REQUEST_ACTIONS,
  },
  expiring: {
    key: (r) => r.assignment_id,
    title: (r) => `${categoryName(r)} · ${r.community_code}`,
    lines: (r) => [line("志愿者", r.volunteer_name), line("到期", when(r.expires_at)),
      line(r.request_id ? "需求编号" : "案件编号", r.request_id || r.case_id)],
    actions: (r) => (r.request_id ? ["assign", "reopen", "cancel"] : []),
  },
  cases: {
    key: (r) => r.case_id,
    title: (r) => `${DISPUTES[r.dispute_type] || r.dispute_type || "纠纷"} · ${r.community_code} · ${LEVELS[r.level] || r.level}`,
    lines: (r) => [line("受理时间", when(r.received_at)), line("网格", r.grid_code), line("案件编号", r.case_id),
      element("ol", { class: "steps" }, ...(r.steps || []).map((step) => element("li", {},
        `${LEVELS[step.level] || step.level} · ${when(step.at)}${step.reason ? ` · ${step.reason}` : ""}`
        + `${step.staff ? ` · 经办: ${step.staff.name || step.staff.subject || ""}` : ""}`)))],
    actions: (r) => (r.level === "street_staff" ? ["close"] : ["escalate", "close"]),
  },
  return_visits: {
    key: (r) => r.case_id,
    title: (r) => `回访 · ${r.community_code}`,
    lines: (r) => [line("调解结果", OUTCOMES[r.outcome] || r.outcome), line("结案时间", when(r.closed_at)),
      line("应回访", when(r.follow_up_at)), line("案件编号", r.case_id)],
    actions: ["return_visit"],
  },
};

const LEVEL_ORDER = ["street_staff", "street", "community", "grid"];

function byLevel(rows) {
  // Cases by level, the highest first (the most pressing), each level under its heading.
  return [...rows].sort((a, b) => LEVEL_ORDER.indexOf(a.level) - LEVEL_ORDER.indexOf(b.level));
}

function drawQueue(kind, rows) {
  const queue = QUEUES[kind];
  if (kind === "cases") rows = byLevel(rows);
  const list = document.querySelector(`[data-list=${kind}]`);
  const kept = new Map([...list.querySelectorAll("article")].filter((a) => a.dataset.open).map((a) => [a.dataset.key, a]));
  const articles = rows.map((row) => {
    const key = queue.key(row);
    if (kept.has(key)) return kept.get(key);  // a form being filled in is not redrawn under the hand
    const article = element("article", { class: "item", "data-key": key, "data-kind": kind });
    const names = typeof queue.actions === "function" ? queue.actions(row) : queue.actions;
    article.append(element("h3", {}, queue.title(row)), ...queue.lines(row), actionBar(article, row, names) || "",
      element("div", { class: "panel" }));
    return article;
  });
  const shown = [];
  articles.forEach((article, index) => {
    if (kind === "cases" && rows[index].level !== rows[index - 1]?.level) {
      shown.push(element("h4", { class: "level", "data-level": rows[index].level }, `${LEVELS[rows[index].level] || rows[index].level}级`));
    }
    shown.push(article);
  });
  list.replaceChildren(...(shown.length ? shown : [element("p", { class: "empty" }, "暂无")]));
}

async function refreshWork() {
  try {
    const work = await call("matching", "work");
    for (const kind of Object.keys(QUEUES)) {
      drawQueue(kind, work[kind] || []);
      document.querySelector(`[data-count=${kind}]`).textContent = work.counts?.[kind] ?? (work[kind] || []).length;
    }
    show("queue-problem", null);
  } catch (problem) {
    show("queue-problem", `工作队列无法载入: ${problem.message}`);
  }
}

function chooseTab(name) {
  tab = name;
  for (const button of document.querySelectorAll(".tab")) button.setAttribute("aria-selected", String(button.dataset.tab === name));
  for (const list of document.querySelectorAll("[data-list]")) list.hidden = list.dataset.list !== name;
}

// --- search ----------------------------------------------------------------------------------------

async function search(event) {
  event.preventDefault();
  const q = document.getElementById("q").value.trim();
  try {
    const found = await call("intake", "search", { params: { q } });
    const results = document.getElementById("search-results");
    const requests = found.requests.map((r) => element("article", { class: "item", "data-request": r.request_id },
      element("h3", {}, `需求 · ${categoryName(r)} · ${r.community_code}`), line("电话", r.phone), line("受理时间", when(r.received_at)),
      line("来源", `${r.source} ${r.external_id || ""}`), line("需求编号", r.request_id)));
    const cases = found.cases.map((c) => element("article", { class: "item", "data-case": c.case_id },
      element("h3", {}, `案件 · ${DISPUTES[c.dispute_type] || c.dispute_type || ""} · ${c.community_code}`), line("受理时间", when(c.received_at)),
      line("案件编号", c.case_id)));
    const households = found.households.map(householdCard);
    const all = [...requests, ...cases, ...households];
    results.replaceChildren(...(all.length ? all : [element("p", { class: "empty" }, "没有找到")]));
    show("search-problem", null);
  } catch (problem) {
    show("search-problem", problem.message);
  }
}

// --- households ------------------------------------------------------------------------------------

function householdCard(h) {
  const open = element("button", { type: "button", "data-history": h.household_id }, "查看档案");
  open.addEventListener("click", () => showHistory(h.household_id));
  return element("article", { class: "item", "data-household": h.household_id },
    element("h3", {}, `${h.name || "(未具名)"} · ${h.community_code}`), line("电话", h.phone), line("类别", tagNames(h.tags)),
    h.paired_volunteer ? line("结对志愿者", h.paired_volunteer.name || h.paired_volunteer.external_id || "有") : null,
    element("div", { class: "actions" }, open));
}

async function refreshHouseholds() {
  try {
    const tag = document.querySelector("#household-filter [name=tag]").value;
    const rows = await call("intake", "households", { params: { tag, limit: 200 } });
    const list = document.getElementById("household-list");
    list.replaceChildren(...(rows.length ? rows.map(householdCard) : [element("p", { class: "empty" }, "暂无重点户")]));
    show("households-problem", null);
  } catch (problem) {
    show("households-problem", `档案无法载入: ${problem.message}`);
  }
}

async function register(event) {
  event.preventDefault();
  const form = event.target;
  const tags = [...form.querySelectorAll("[name=tags]:checked")].map((box) => box.value);
  const body = {
    beneficiary: { name: form.name.value.trim(), ...(form.phone.value.trim() ? { phone: form.phone.value.trim() } : {}) },
    community_code: form.community_code.value, tags,
    languages: form.languages.value.split(/[,，\s]+/).filter(Boolean),
    consent: { given: form.consent.checked, method: form.consent_method.value },
  };
  for (const name of ["grid_code", "address", "external_id"]) if (form[name].value.trim()) body[name] = form[name].value.trim();
  try {
    if (!tags.length) throw new Problem("请至少选择一个类别");
    await call("intake", "households", { method: "POST", body });
    form.reset();
    show(form.querySelector(".problem"), null);
    notice("已登记");
    refreshHouseholds();
  } catch (problem) {
    show(form.querySelector(".problem"), problem.message);
  }
}

async function showHistory(householdId) {
  const box = document.getElementById("history");
  box.hidden = false;
  box.replaceChildren(element("p", {}, "载入中…"));
  box.scrollIntoView();
  const close = element("button", { type: "button", class: "quiet" }, "关闭档案");
  close.addEventListener("click", () => { box.hidden = true; box.replaceChildren(); });
  try {
    const [file, history] = await Promise.all([call("intake", `households/${householdId}`),
      call("matching", `households/${householdId}/history`)]);
    const services = history.services.map((s) => element("li", { "data-service": s.request_id },
      `${s.campaign_id ? "走访 · " : ""}${categoryName(s)} · ${span(s.window_start, s.window_end)} · ${STATUSES[s.status] || s.status}`
      + `${s.hours ? ` · ${s.hours} 小时` : ""}${s.handled_by_staff ? " · 工作人员处理" : ""}`));
    const cases = history.cases.map((c) => element("li", { "data-case": c.case_id },
      `${DISPUTES[c.dispute_type] || c.dispute_type || "纠纷"} · ${LEVELS[c.level] || c.level} · ${STATUSES[c.status] || c.status}`
      + `${c.outcome ? ` · ${OUTCOMES[c.outcome] || c.outcome}` : ""}`
      + `${c.return_visit ? ` · 回访: ${SATISFACTION[c.return_visit.satisfaction] || c.return_visit.satisfaction}` : ""}`));
    box.replaceChildren(element("h3", {}, `档案 · ${file.name || "(未具名)"}`), line("电话", file.phone),
      line("社区/网格", `${file.community_code}${file.grid_code ? ` / ${file.grid_code}` : ""}`), line("地址", file.address),
      line("类别", tagNames(file.tags)), line("语言", (file.languages || []).join("、") || "—"),
      line("档案号", file.external_id), line("登记时间", when(file.registered_at)),
      element("h4", {}, `服务与走访 (${services.length})`), element("ul", { class: "history" }, ...services),
      element("h4", {}, `调解案件 (${cases.length})`), element("ul", { class: "history" }, ...cases), close);
  } catch (problem) {
    box.replaceChildren(element("p", { class: "problem" }, problem.message), close);
  }
}

// --- campaigns ---------------------------------------------------------------------------------------

function progress(c) {
  const targeted = c.targeted || 0;
  const share = (n) => (targeted ? (100 * (n || 0)) / targeted : 0);
  const percent = Math.round(share(c.visited));
  return element("div", { class: "progress", "data-campaign": c.campaign_id, "data-visited": c.visited,
    "data-assigned": c.assigned, "data-not-yet": c.not_yet, "data-targeted": targeted, "data-percent": percent },
  element("div", { class: "bar" },
    element("span", { class: "visited", style: `width:${share(c.visited)}%` }),
    element("span", { class: "assigned", style: `width:${share(c.assigned)}%` })),
  element("p", { class: "line" }, `已走访 ${c.visited} · 已指派 ${c.assigned} · 未安排 ${c.not_yet} · 共 ${targeted} 户 (${percent}%)`));
}

const openCampaigns = new Set();  // the campaigns whose visits are shown: kept open across redraws

async function drawVisits(campaignId, box) {
  try {
    const found = await call("matching", `campaigns/${campaignId}`);
    box.replaceChildren(element("ul", { class: "history" }, ...found.visits.map((v) => element("li",
      { "data-visit": v.request_id, "data-state": v.state },
      `${VISIT_STATES[v.state] || v.state}${v.volunteer_name ? ` · ${v.volunteer_name}` : ""} · 重点户 ${v.household_id.slice(0, 8)}`))));
  } catch (problem) {
    box.replaceChildren(element("p", { class: "problem" }, problem.message));
  }
}

function campaignCard(c) {
  const visits = element("div", { class: "visits" });
  const toggle = element("button", { type: "button", class: "quiet", "data-visits": c.campaign_id },
    openCampaigns.has(c.campaign_id) ? "收起明细" : "走访明细");
  toggle.addEventListener("click", () => {
    if (openCampaigns.delete(c.campaign_id)) {
      visits.replaceChildren();
      toggle.textContent = "走访明细";
    } else {
      openCampaigns.add(c.campaign_id);
      toggle.textContent = "收起明细";
      drawVisits(c.campaign_id, visits);
    }
  });
  if (openCampaigns.has(c.campaign_id)) drawVisits(c.campaign_id, visits);
  return element("article", { class: "item", "data-campaign-id": c.campaign_id },
    element("h3", {}, c.title), line("范围", (c.community_codes || []).join("、")), line("类别", tagNames(c.tags)),
    line("时间", span(c.window_start, c.window_end)), progress(c), element("div", { class: "actions" }, toggle), visits);
}

async function refreshCampaigns() {
  try {
    const rows = await call("matching", "campaigns");
    const list = document.getElementById("campaign-list");
    list.replaceChildren(...(rows.length ? rows.map(campaignCard) : [element("p", { class: "empty" }, "暂无走访活动")]));
    show("campaigns-problem", null);
  } catch (problem) {
    show("campaigns-problem", `走访活动无法载入: ${problem.message}`);
  }
}

async function startCampaign(event) {
  event.preventDefault();
  const form = event.target;
  const [kind, code] = form.area.value.split(":");
  const tags = [...form.querySelectorAll("[name=campaign_tags]:checked")].map((box) => box.value);
  try {
    if (!tags.length) throw new Problem("请至少选择一个类别");
    const answer = await call("intake", "campaigns", { method: "POST", body: {
      title: form.title.value.trim(), [kind]: code, tags,
      window: { start: new Date(form.start.value).toISOString(), end: new Date(form.end.value).toISOString() } } });
    form.reset();
    show(form.querySelector(".problem"), null);
    notice(`走访活动已发起: ${answer.targeted} 户`);
    refreshCampaigns();
  } catch (problem) {
    show(form.querySelector(".problem"), problem.message);
  }
}

// --- the page ----------------------------------------------------------------------------------------

function refresh() {
  // One refresh at a time; a change during one is picked up by the next.
  if (refreshing) {
    refreshing.again = true;
    return refreshing.done;
  }
  const round = { again: false };
  round.done = Promise.all([refreshWork(), refreshCampaigns(), refreshHouseholds()]).then(() => {
    refreshing = null;
    if (round.again) refresh();
  });
  refreshing = round;
  return round.done;
}

function listen() {
  const live = document.getElementById("live");
  const stream = new EventSource("/console/api/reporting/reports/stream");
  const state = (name, text) => { live.dataset.state = name; live.textContent = text; };
  stream.addEventListener("open", () => state("open", "实时更新中"));
  stream.addEventListener("hello", () => { state("open", "实时更新中"); refresh(); });
  stream.addEventListener("changed", () => refresh());
  stream.addEventListener("error", () => state("closed", "未连接 (重连中…)"));
  setInterval(refresh, REFRESH_MS);
}

function fillChoices() {
  for (const box of document.querySelectorAll("[data-tags]")) {
    box.replaceChildren(...Object.entries(TAGS).map(([value, label]) => element("label", { class: "check" },
      element("input", { type: "checkbox", name: box.dataset.tags, value }), ` ${label}`)));
  }
  for (const select of document.querySelectorAll("[data-communities]")) {
    select.replaceChildren(...me.communities.map((code) => element("option", { value: code }, code)));
  }
  for (const select of document.querySelectorAll("[data-areas]")) {
    select.replaceChildren(...me.streets.map((s) => element("option", { value: `street:${s.code}` }, `${s.name} (整个街道)`)),
      ...me.communities.map((code) => element("option", { value: `community:${code}` }, `社区 ${code}`)));
  }
  const filter = document.querySelector("#household-filter [name=tag]");
  filter.append(...Object.entries(TAGS).map(([value, label]) => element("option", { value }, label)));
}

async function start() {
  const answer = await fetch("/console/me");
  if (answer.status === 401) return location.reload();
  me = await answer.json();
  const roles = { community_staff: "社区工作人员", street_staff: "街道工作人员", ops: "运维 (只读)" };
  document.getElementById("who").textContent = `${roles[me.role] || me.role}${me.area ? ` · ${me.area}` : ""}`;
  try { categories = (await call("reporting", "reports/labels")).categories; } catch { categories = {}; }
  fillChoices();
  for (const form of document.querySelectorAll("#register, #campaign-start")) form.hidden = !me.may_act;  // ops only look
  for (const button of document.querySelectorAll(".tab")) button.addEventListener("click", () => chooseTab(button.dataset.tab));
  chooseTab(tab);
  document.getElementById("search-form").addEventListener("submit", search);
  document.getElementById("register-form").addEventListener("submit", register);
  document.getElementById("campaign-form").addEventListener("submit", startCampaign);
  document.getElementById("household-filter").addEventListener("submit", (event) => { event.preventDefault(); refreshHouseholds(); });
  await refresh();
  listen();
}

start();
