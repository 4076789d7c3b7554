//===- Report.cpp - per-kernel table and SVG of a tuning database ---------===//

#include "txl/tuner/Report.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

namespace txl::tuner {
namespace {

std::map<std::string, std::string> knobMap(const std::string &text) {
  std::map<std::string, std::string> out;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find(',', start);
    if (end == std::string::npos)
      end = text.size();
    std::string item = text.substr(start, end - start);
    size_t eq = item.find('=');
    if (eq != std::string::npos)
      out[item.substr(0, eq)] = item.substr(eq + 1);
    start = end + 1;
  }
  return out;
}

std::string milliseconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f ms", seconds * 1e3);
  return text;
}

std::string xmlEscape(const std::string &s) {
  std::string out;
  for (char c : s)
    out += c == '<'   ? "&lt;"
           : c == '>' ? "&gt;"
           : c == '&' ? "&amp;"
                      : std::string(1, c);
  return out;
}

} // namespace

StatusOr<std::vector<KernelReport>>
buildReport(TuningDatabase &db, const std::vector<KernelTask> &tasks,
            const std::string &target, int64_t threads) {
  std::vector<KernelReport> rows;
  double total = 0;
  for (const KernelTask &task : tasks) {
    if (task.weight <= 0)
      continue; // @prepare's: once at load, never timed.
    auto records = db.records(task.key.hash, target, threads);
    if (!records.ok())
      return records.status();
    const RecordRow *heuristic = nullptr;
    KernelReport row;
    for (const RecordRow &r : *records) {
      if (r.origin == "heuristic" && r.status == "ok")
        heuristic = &r;
      else if (r.origin != "heuristic")
        ++row.measured, row.failed += r.status != "ok";
    }
    if (!heuristic)
      continue;
    auto best = db.best(task.key.hash, target, threads);
    if (!best.ok())
      return best.status();
    row.label = task.key.label;
    row.workload = task.key.hash;
    row.weight = task.weight;
    row.heuristicSeconds = heuristic->medianSeconds;
    row.heuristicSpread = heuristic->spread;
    row.bestRatio = *best ? (*best)->meanRatio : 1;
    row.bestMeasurements = *best ? (*best)->measurements : 0;
    row.bestSeconds = row.heuristicSeconds * row.bestRatio;
    if (*best) {
      const RecordRow &r = (*best)->record;
      row.bestRecord = r.id;
      row.bestOrigin = r.origin;
      row.bestSpread = r.spread;
      auto before = knobMap(heuristic->knobs), after = knobMap(r.knobs);
      for (const auto &[name, value] : after)
        if (before.count(name) && before[name] != value)
          row.changedKnobs += (row.changedKnobs.empty() ? "" : ", ") + name +
                              " " + before[name] + "->" + value;
    }
    total += row.weight * row.heuristicSeconds;
    rows.push_back(row);
  }
  for (KernelReport &row : rows)
    row.share = total > 0 ? row.weight * row.heuristicSeconds / total : 0;
  return rows;
}

std::string formatReport(const std::vector<KernelReport> &rows) {
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line,
                "%-22s %6s %6s %12s %7s %12s %8s %7s %5s  %s\n", "kernel",
                "calls", "share", "heuristic", "spread", "best", "speedup",
                "spread", "cands", "knobs changed");
  out << line;
  double before = 0, after = 0;
  for (const KernelReport &r : rows) {
    std::snprintf(
        line, sizeof line,
        "%-22s %6.2f %5.1f%% %12s %6.1f%% %12s %7.3fx %6.1f%% %5lld  %s\n",
        r.label.c_str(), r.weight, 100 * r.share,
        milliseconds(r.heuristicSeconds).c_str(), 100 * r.heuristicSpread,
        milliseconds(r.bestSeconds).c_str(), 1 / r.bestRatio,
        100 * r.bestSpread, static_cast<long long>(r.measured),
        r.changedKnobs.empty() ? "(heuristic)" : r.changedKnobs.c_str());
    out << line;
    before += r.weight * r.heuristicSeconds;
    after += r.weight * r.bestSeconds;
  }
  if (after > 0) {
    std::snprintf(line, sizeof line,
                  "kernel time per step: %s -> %s, %.3fx (estimated from the "
                  "kernels alone; bench/model/compare.py measures the model)\n",
                  milliseconds(before).c_str(), milliseconds(after).c_str(),
                  before / after);
    out << line;
  }
  return out.str();
}

std::string reportSvg(const std::vector<KernelReport> &rows,
                      const std::string &title) {
  const int width = 760, left = 190, barMax = 440, rowHeight = 26;
  double maxSpeedup = 1.2;
  for (const KernelReport &r : rows)
    maxSpeedup = std::max(maxSpeedup, 1 / r.bestRatio);
  int height = 70 + rowHeight * int(rows.size());
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width
      << "\" height=\"" << height << "\" font-family=\"sans-serif\" "
      << "font-size=\"12\">\n";
  svg << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << "<text x=\"10\" y=\"20\" font-size=\"14\">" << xmlEscape(title)
      << "</text>\n";
  auto xOf = [&](double speedup) {
    return left + int(barMax * speedup / maxSpeedup);
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    const KernelReport &r = rows[i];
    int y = 40 + rowHeight * int(i);
    double speedup = 1 / r.bestRatio;
    // Bar thickness by the kernel's share of the step.
    int thickness = std::max(3, int(std::round(20 * std::sqrt(r.share))));
    svg << "<text x=\"10\" y=\"" << y + 14 << "\">" << xmlEscape(r.label)
        << " (" << int(std::round(100 * r.share)) << "%)</text>\n";
    svg << "<rect x=\"" << left << "\" y=\"" << y + 10 - thickness / 2
        << "\" width=\"" << xOf(speedup) - left << "\" height=\"" << thickness
        << "\" fill=\"" << (speedup > 1.0 ? "#3a7d44" : "#999999") << "\"/>\n";
    char label[32];
    std::snprintf(label, sizeof label, "%.3fx", speedup);
    svg << "<text x=\"" << xOf(speedup) + 6 << "\" y=\"" << y + 14 << "\">"
        << label << "</text>\n";
  }
  svg << "<line x1=\"" << xOf(1) << "\" y1=\"30\" x2=\"" << xOf(1) << "\" y2=\""
      << height - 20 << "\" stroke=\"black\" "
      << "stroke-dasharray=\"4,3\"/>\n";
  svg << "<text x=\"" << xOf(1) - 40 << "\" y=\"" << height - 6
      << "\">heuristic = 1x</text>\n";
  svg << "</svg>\n";
  return svg.str();
}

} // namespace txl::tuner
