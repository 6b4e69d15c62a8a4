#include "record/cross_validation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "metrics/predictions.h"

namespace pipelang::record {

namespace fs = std::filesystem;

namespace {

std::string numberText(double v) {
    if (std::isnan(v)) return "nan";
    char buffer[32];
    double magnitude = std::fabs(v);
    std::snprintf(buffer, sizeof buffer, magnitude != 0 && (magnitude < 1e-3 || magnitude >= 1e5) ? "%.3e" : "%.6f", v);
    return buffer;
}

struct Prediction {
    int64_t row = 0;
    int64_t fold = 0;
    std::string line;  // the rest of the line: target,prediction[,p...]
    std::string target, predicted;
};

// The pooled rows as predictions to score: a category target's class
// probabilities (p_<class> columns) as log-probabilities, whose argmax and
// softmax are those probabilities again; a number target's predicted value.
metrics::Predictions pooledPredictions(const std::vector<Prediction>& pooled, const std::string& header) {
    metrics::Predictions p;
    std::vector<std::string> columns = csvCells(header);  // target,prediction[,p_<class>...]
    p.rows = int64_t(pooled.size());
    if (columns.size() > 2) {
        p.target = "category";
        std::vector<std::string> classes;
        for (size_t c = 2; c < columns.size(); ++c) classes.push_back(columns[c].substr(2));
        p.columns = int64_t(classes.size());
        for (const auto& row : pooled) {
            auto cells = csvCells(row.line);
            auto at = std::find(classes.begin(), classes.end(), row.target);
            p.classes.push_back(at == classes.end() ? -1 : int64_t(at - classes.begin()));
            for (size_t c = 2; c < columns.size(); ++c) {
                double probability = c < cells.size() ? std::strtod(cells[c].c_str(), nullptr) : 0;
                p.outputs.push_back(float(std::log(std::max(probability, 1e-30))));
            }
        }
    } else {
        p.target = "number";
        p.columns = 1;
        for (const auto& row : pooled) {
            p.outputs.push_back(float(std::strtod(row.predicted.c_str(), nullptr)));
            p.targets.push_back(float(std::strtod(row.target.c_str(), nullptr)));
        }
    }
    return p;
}

// The metric call a column of the table names: as the train block wrote it,
// else with its registry defaults; null for a column that is no metric (valid_loss).
const Value* metricCall(const std::string& name, const Value* written) {
    if (written)
        for (const auto& call : written->items)
            if (call.kind == Value::Kind::Call && call.text == name) return &call;
    return metrics::defaultCall(name);
}

}  // namespace

FoldsPlan foldsPlan(const Pipeline& pipeline) {
    auto trains = pipeline.all("train");
    if (trains.empty()) throw RecordError("the file has no train block, so there is nothing to cross-validate");
    const Section& train = *trains.back();
    FoldsPlan plan;
    plan.stage = train.name;
    const Value* data = train.field("data");
    plan.data = data ? data->text.substr(0, data->text.find('.')) : "";
    const Section* section = pipeline.find("data", plan.data);
    const Value* split = section ? section->field("split") : nullptr;
    // A splitter with folds is one whose signature has `k`.
    if (!split || split->kind != Value::Kind::Call || !split->builtin || !split->builtin->param("k"))
        throw RecordError("cross-validation runs the folds of a k-fold split, but data `" + plan.data +
                          "` is split by " + (split ? "`" + split->str() + "`" : std::string("nothing")) +
                          "; use `split = kfold(k = 5)`, `stratified_kfold` or `group_kfold`");
    plan.k = split->arg("k")->integer;
    plan.metrics = train.field("metrics");
    return plan;
}

std::vector<SweepPoint> foldPoints(const FoldsPlan& plan) {
    std::vector<SweepPoint> points;
    for (int64_t i = 0; i < plan.k; ++i) points.push_back({{plan.data + ".fold", std::to_string(i)}});
    return points;
}

CrossValidation crossValidate(const std::vector<PointResult>& folds, const fs::path& sweepDir, const std::string& stage,
                              const Value* metricCalls) {
    CrossValidation cv;
    std::vector<Prediction> pooled;
    std::string header;
    for (size_t f = 0; f < folds.size(); ++f) {
        if (folds[f].status != "finished") continue;
        fs::path file = sweepDir / folds[f].run / stage / "valid_predictions.csv";
        std::ifstream in(file);
        if (!in)
            throw RecordError(file.string() +
                              " is missing: the fold wrote no validation predictions (only a "
                              "category or number target has them)");
        std::string line;
        std::getline(in, line);
        if (line.rfind("row,target,prediction", 0) != 0)
            throw RecordError(file.string() + ":1: expected the header `row,target,prediction...`");
        if (header.empty()) header = line.substr(4);
        for (int number = 2; std::getline(in, line); ++number) {
            if (line.empty()) continue;
            auto c = csvCells(line);
            Prediction p;
            try {
                p.row = std::stoll(c.at(0));
            } catch (const std::exception&) {
                throw RecordError(file.string() + ":" + std::to_string(number) + ": `" + c[0] +
                                  "` is not a row number");
            }
            p.fold = int64_t(f);
            p.line = line.substr(line.find(',') + 1);
            p.target = c.size() > 1 ? c[1] : "";
            p.predicted = c.size() > 2 ? c[2] : "";
            pooled.push_back(std::move(p));
        }
    }
    std::sort(pooled.begin(), pooled.end(), [](const Prediction& a, const Prediction& b) { return a.row < b.row; });
    for (size_t i = 1; i < pooled.size(); ++i)
        if (pooled[i].row == pooled[i - 1].row)
            throw RecordError("row " + std::to_string(pooled[i].row) + " was predicted by folds " +
                              std::to_string(pooled[i - 1].fold) + " and " + std::to_string(pooled[i].fold) +
                              ": the folds overlap");
    cv.items = int64_t(pooled.size());
    cv.oofCsv = "row,fold," + header + "\n";
    for (const auto& p : pooled)
        cv.oofCsv += std::to_string(p.row) + "," + std::to_string(p.fold) + "," + p.line + "\n";

    // Every metric of the table again, on the pooled predictions, by the
    // same implementation that scored each fold (metrics/).
    std::vector<std::pair<std::string, double>> overall;
    if (!pooled.empty()) {
        metrics::Predictions predictions = pooledPredictions(pooled, header);
        for (const auto& r : folds)
            for (const auto& [name, value] : r.metrics) {
                const Value* call = metricCall(name, metricCalls);
                bool done = std::any_of(overall.begin(), overall.end(), [&](const auto& o) { return o.first == name; });
                if (!call || done || !metrics::isScalar(*call)) continue;
                try {
                    overall.push_back({name, metrics::score(*call, predictions)});
                } catch (const metrics::MetricError&) {
                    // A metric the saved predictions cannot give (e.g. a
                    // multi-label one) stays empty in the pooled row.
                }
            }
    }
    // The table: one row per fold, then mean, std and pooled.
    std::vector<std::string> metrics;
    for (const auto& r : folds)
        for (const auto& [name, value] : r.metrics)
            if (std::find(metrics.begin(), metrics.end(), name) == metrics.end()) metrics.push_back(name);
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> head = {"fold", "run"};
    head.insert(head.end(), metrics.begin(), metrics.end());
    rows.push_back(head);
    cv.csv = "fold,run";
    for (const auto& m : metrics) cv.csv += "," + m;
    cv.csv += "\n";
    std::map<std::string, std::vector<double>> byMetric;
    for (size_t f = 0; f < folds.size(); ++f) {
        std::vector<std::string> row = {std::to_string(f), folds[f].run};
        std::string csvRow = std::to_string(f) + "," + folds[f].run;
        for (const auto& m : metrics) {
            std::string cell = folds[f].status == "finished" ? "" : folds[f].status;
            for (const auto& [name, value] : folds[f].metrics)
                if (name == m) cell = numberText(value), byMetric[m].push_back(value);
            row.push_back(cell);
            csvRow += "," + cell;
        }
        rows.push_back(row);
        cv.csv += csvRow + "\n";
    }
    std::vector<std::string> meanRow = {"mean", ""}, stdRow = {"std", ""}, pooledRow = {"pooled", "oof"};
    std::string meanCsv = "mean,", stdCsv = "std,", pooledCsv = "pooled,oof";
    for (const auto& m : metrics) {
        const auto& values = byMetric[m];
        double mean = 0, var = 0;
        for (double v : values) mean += v / double(values.size());
        for (double v : values) var += (v - mean) * (v - mean);
        // The sample standard deviation over the folds (n - 1), as scikit-learn users read it beside the mean.
        double sd = values.size() > 1 ? std::sqrt(var / double(values.size() - 1)) : std::nan("");
        meanRow.push_back(values.empty() ? "" : numberText(mean));
        stdRow.push_back(values.empty() ? "" : numberText(sd));
        meanCsv += "," + meanRow.back();
        stdCsv += "," + stdRow.back();
        std::string cell;
        for (const auto& [name, value] : overall)
            if (name == m) cell = numberText(value);
        pooledRow.push_back(cell);
        pooledCsv += "," + cell;
    }
    rows.push_back(meanRow);
    rows.push_back(stdRow);
    rows.push_back(pooledRow);
    cv.csv += meanCsv + "\n" + stdCsv + "\n" + pooledCsv + "\n";
    std::vector<size_t> width(head.size(), 0);
    for (const auto& row : rows)
        for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
    for (const auto& row : rows) {
        std::string line;
        for (size_t c = 0; c < row.size(); ++c) line += row[c] + std::string(width[c] - row[c].size() + 2, ' ');
        while (!line.empty() && line.back() == ' ') line.pop_back();
        cv.table += line + "\n";
    }
    cv.table += "pooled: the metrics measured once on all " + std::to_string(cv.items) +
                " out-of-fold predictions (each item predicted by the fold that held it out)\n";
    return cv;
}

}  // namespace pipelang::record
