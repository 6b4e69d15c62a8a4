// `pipe-runtime lr-find FILE`
#include "runtime/look/lr_find.h"
#include "cli/run_flags.h"
#include "cli/runtime/command.h"

namespace pipelang::cli::runtime {

namespace {

int lrFind(int argc, char** argv) {
    CLI::App app{
        "The learning-rate range test (fastai's lr_find): loss against an exponentially growing rate, "
        "with suggestions."};
    app.name("pipe lr-find");
    pipelang::runtime::LrFindOptions options;
    app.add_option("file", options.file, "the .pipe file")->required();
    addSetFlag(app, options.overrides, "fit.optimizer.weight_decay=0.1");
    app.add_option("--stage", options.stage, "the train stage (default: the last)");
    app.add_option("--start", options.start, "the first learning rate (default: 1e-7)");
    app.add_option("--end", options.end, "the last learning rate (default: 10)");
    app.add_option("--iters", options.iters, "batches at most (default: 100)");
    addDeviceFlag(app, options.device);
    app.add_option("--out", options.out, "the folder for lr_find.csv and the plots (default: lr-find-STEM)");
    if (int code = parse(app, argc, argv); code >= 0) return code;
    return pipelang::runtime::lrFind(options);
}

const Commands::Add kLrFind{"lr-find", lrFind};

}  // namespace

}  // namespace pipelang::cli::runtime
