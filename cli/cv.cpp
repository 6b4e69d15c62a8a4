// `pipe cv FILE`: every fold of the file's k-fold split as a run of its own,
// then out-of-fold predictions and a per-fold and overall score table.
#include <cstdio>
#include <fstream>

#include "cli/common.h"
#include "cli/sweep.h"
#include "interpreter/compile.h"
#include "record/cross_validation.h"

namespace pipelang::cli {

int cv(const std::vector<std::string>& args) {
    CLI::App app{
        "Run every fold of the file's k-fold split (kfold, stratified_kfold, group_kfold), each as a run of its "
        "own, then write the out-of-fold predictions (oof_predictions.csv) and a table of each fold's metrics, "
        "their mean and std, and the metrics of the pooled out-of-fold predictions (cv.csv, cv.txt)."};
    RunFlags command;
    app.add_option("file", command.file, "the .pipe file; its last train stage's data must be k-fold split")
        ->required();
    addPointsFlags(app, command, "folds");
    if (int code = parseArgs(app, "cv", args); code >= 0) return code;

    auto c = compileFile(command.file, CompileOptions{command.overrides});
    printDiagnostics(c->diags);
    if (!c->ok()) return kBadInput;
    record::FoldsPlan plan;
    try {
        plan = record::foldsPlan(c->pipeline);
    } catch (const record::RecordError& e) {
        std::fprintf(stderr, "pipe cv: %s\n", e.what());
        return kBadInput;
    }
    std::string metric = "valid_loss";
    if (auto sweep = record::sweepPlan(c->pipeline); record::hasSweep(c->pipeline)) metric = sweep.metric;
    SweepOutcome outcome = runSweep(command, record::fixedStrategy(record::foldPoints(plan)), metric, "cv",
                                    std::to_string(plan.k) + " folds of " + plan.data, {});
    if (outcome.dir.empty()) return outcome.code;
    try {
        record::CrossValidation cv = record::crossValidate(outcome.results, outcome.dir, plan.stage, plan.metrics);
        std::ofstream(outcome.dir / "oof_predictions.csv") << cv.oofCsv;
        std::ofstream(outcome.dir / "cv.csv") << cv.csv;
        std::ofstream(outcome.dir / "cv.txt") << cv.table;
        std::printf("\ncross-validation of %s over %lld folds of %s\n%s", plan.stage.c_str(),
                    static_cast<long long>(plan.k), plan.data.c_str(), cv.table.c_str());
        std::printf("saved %s, cv.csv and cv.txt\n", (outcome.dir / "oof_predictions.csv").c_str());
    } catch (const record::RecordError& e) {
        std::fprintf(stderr, "pipe cv: %s\n", e.what());
        return kFailed;
    }
    return outcome.code;
}

}  // namespace pipelang::cli
