// The station's dashboard: reads reporting's API, redraws on every change the stream announces.
"use strict";

const HEADLINE = ["received", "completed", "sessions", "person_times", "service_hours", "participations",
  "active_volunteers", "case_files", "households_visited", "disputes_received", "disputes_agreed",
  "escalated", "registered_volunteers", "volunteer_share_of_residents", "within_window_share",
  "median_minutes_to_assign", "staff_handled", "households_registered", "return_visits", "satisfaction_share",
  "staff_actions"];
const SHARES = new Set(["volunteer_share_of_residents", "within_window_share", "satisfaction_share", "coverage"]);
// from, to, community, street, category, team; or period=all (no from): the page opens on this month.
const query = new URLSearchParams(location.search);
let labels = null;

function scoped() {
  const params = new URLSearchParams(query);
  params.delete("period");
  return params;
}

function cityToday() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: labels.timezone }).format(new Date());  // YYYY-MM-DD
}

function firstDay(period) {
  const today = cityToday();
  return { month: `${today.slice(0, 7)}-01`, year: `${today.slice(0, 4)}-01-01` }[period];
}

function choosePeriod() {
  // Opened without a period: this month on the city's clock, the figures a station reads first
  // (and a month's figures, not all time's, are what stays quick to compute at city scale).
  if (!query.has("from") && !query.has("to") && query.get("period") !== "all") query.set("from", firstDay("month"));
}

async function api(path, extra = {}) {
  const params = scoped();
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  const response = await fetch(`/api/v1/reports/${path}?${params}`);
  if (response.status === 401) location.reload();  // the session ended: the server shows the login page
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

function shown(name, value) {
  if (value === null || value === undefined) return "—";
  if (SHARES.has(name)) return `${(value * 100).toFixed(1)}%`;
  return Number(value).toLocaleString("zh-CN", { maximumFractionDigits: 1 });
}

function element(tag, attributes = {}, text = "") {
  const made = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
  made.textContent = text;
  return made;
}

function drawHeadline(figures) {
  const cards = HEADLINE.map((name) => {
    const card = element("div", { class: "card" });
    card.append(element("div", { class: "label" }, labels.figures[name]),
      element("div", { class: "value", "data-figure": name, "data-value": JSON.stringify(figures[name]) },
        shown(name, figures[name])));
    return card;
  });
  document.getElementById("headline").replaceChildren(...cards);
}

function drawTrend(rows) {
  const svg = document.getElementById("trend");
  const width = 800, height = 190, left = 36, top = 10;
  const tick = Math.max(1, Math.ceil(Math.max(...rows.flatMap((row) => [row.received || 0, row.completed || 0])) / 4));
  const most = 4 * tick;  // whole numbers on the axis
  const step = (width - left) / Math.max(rows.length, 1);
  const bar = Math.max(2, Math.min(24, step / 2 - 2));
  const parts = [];
  for (let line = 0; line <= 4; line++) {
    const y = top + height - (height * line) / 4;
    parts.push(`<text x="0" y="${y + 4}">${line * tick}</text>`,
      `<line x1="${left}" x2="${width}" y1="${y}" y2="${y}" stroke="#e4e7eb"/>`);
  }
  rows.forEach((row, index) => {
    const x = left + index * step + step / 2 - bar;
    for (const [offset, name] of [[0, "received"], [bar, "completed"]]) {
      const h = (height * (row[name] || 0)) / most;
      parts.push(`<rect class="${name}" x="${x + offset}" y="${top + height - h}" width="${bar - 1}" height="${h}"/>`);
    }
    if (rows.length <= 31 || index % Math.ceil(rows.length / 31) === 0) {
      parts.push(`<text x="${x}" y="${top + height + 16}">${row.day.slice(5)}</text>`);
    }
  });
  svg.innerHTML = parts.join("");
}

function drawCategories(rows) {
  const served = rows.map((row) => ({ name: labels.categories[row.category] || row.category,
    value: (row.received || 0) + (row.disputes_received || 0) })).filter((row) => row.value > 0)
    .sort((a, b) => b.value - a.value);
  const most = Math.max(1, ...served.map((row) => row.value));
  document.getElementById("categories").replaceChildren(...served.map((row) => {
    const line = element("div", { class: "bar" });
    const fill = element("div", { class: "fill" });
    fill.style.width = `${(100 * row.value) / most}%`;
    const track = element("div");
    track.append(fill);
    line.append(element("span", {}, row.name), track, element("span", {}, shown("received", row.value)));
    return line;
  }));
}

function drawCommunities(rows) {
  const columns = ["received", "completed", "person_times", "service_hours", "registered_volunteers"];
  document.querySelector("#communities tbody").replaceChildren(...rows.map((row) => {
    const line = element("tr");
    line.append(element("td", {}, row.community));
    for (const name of columns) line.append(element("td", { class: "number" }, shown(name, row[name])));
    return line;
  }));
}

function drawBacklog(rows) {
  document.getElementById("backlog-count").textContent = `共 ${rows.length} 件`;
  document.querySelector("#backlog tbody").replaceChildren(...rows.map((row) => {
    const line = element("tr");
    line.append(element("td", {}, new Date(row.escalated_at).toLocaleString("zh-CN", { timeZone: labels.timezone })),
      element("td", {}, row.community_code), element("td", {}, labels.categories[row.category] || row.category),
      element("td", {}, row.reason || row.escalation_reason || ""));
    return line;
  }));
}

function drawCampaigns(rows) {
  document.querySelector("#campaigns tbody").replaceChildren(...rows.map((row) => {
    const line = element("tr", { "data-campaign": row.campaign_id });
    line.append(element("td", {}, row.title), element("td", {}, row.community_codes.join("、")),
      element("td", { class: "number" }, shown("targeted", row.targeted)),
      element("td", { class: "number" }, shown("visited", row.visited)),
      element("td", { class: "number", "data-coverage": JSON.stringify(row.coverage) }, shown("coverage", row.coverage)));
    return line;
  }));
}

function drawStaffActions(rows) {
  const byKind = new Map();
  for (const row of rows) byKind.set(row.kind_name, (byKind.get(row.kind_name) || 0) + row.count);
  document.querySelector("#staff-actions tbody").replaceChildren(...[...byKind].map(([name, count]) => {
    const line = element("tr");
    line.append(element("td", {}, name), element("td", { class: "number" }, shown("count", count)));
    return line;
  }));
}

function describeScope() {
  const period = query.get("from") || query.get("to") ? `${query.get("from") || "…"} 至 ${query.get("to") || "今"}` : "全部时间";
  for (const link of document.querySelectorAll("#periods a")) {
    const params = scoped();
    params.delete("from");
    params.delete("to");
    if (link.dataset.period === "all") params.set("period", "all");
    else params.set("from", firstDay(link.dataset.period));
    link.href = `?${params}`;
    const current = link.dataset.period === "all" ? !query.get("from") && !query.get("to")
      : query.get("from") === firstDay(link.dataset.period) && !query.get("to");
    link.setAttribute("aria-current", String(current));
  }
  for (const format of ["xlsx", "csv"]) {
    const params = scoped();
    params.set("format", format);
    document.getElementById(`export-${format}`).href = `/api/v1/reports/summary?${params}`;
  }
  const place = query.get("community") || (query.get("street") && (labels.streets[query.get("street")] || query.get("street")))
    || "全部社区";
  document.getElementById("scope").textContent = `${period} · ${place}`;
}

let drawing = Promise.resolve();
let waiting = false;
function refresh() {
  // One redraw at a time, in order, and at most one waiting: a burst of changes while a redraw
  // runs makes one more redraw, which reads them all.
  if (waiting) return drawing;
  waiting = true;
  drawing = drawing.then(async () => {
    waiting = false;
    if (!labels) {
      labels = await api("labels");
      choosePeriod();
    }
    const [summary, days, categories, communities, backlog, campaigns, staffActions] = await Promise.all([
      api("summary"), api("groups/day"), api("groups/category"), api("groups/community"),
      api("escalations", { lang: "zh" }), api("campaigns"),
      query.has("team") ? { rows: [] } : api("staff-actions")]);  // staff belong to no volunteer team
    describeScope();
    drawHeadline(summary.figures);
    drawTrend(days.rows);
    drawCategories(categories.rows);
    drawCommunities(communities.rows);
    drawBacklog(backlog.rows);
    drawCampaigns(campaigns.rows);
    drawStaffActions(staffActions.rows);
    document.body.dataset.version = String(Number(document.body.dataset.version || 0) + 1);
  }).catch((error) => { document.getElementById("live").textContent = `出错: ${error.message}`; });
  return drawing;
}

function follow() {
  const live = document.getElementById("live");
  const stream = new EventSource("/api/v1/reports/stream");
  stream.addEventListener("hello", () => { live.dataset.state = "open"; live.textContent = "实时更新中"; refresh(); });
  stream.addEventListener("changed", () => {
    refresh().then(() => { live.textContent = `实时更新中 · ${new Date().toLocaleTimeString("zh-CN")} 已更新`; });
  });
  stream.onerror = () => { live.dataset.state = "connecting"; live.textContent = "重新连接中…"; };
}

refresh();
follow();
