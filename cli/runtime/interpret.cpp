// `pipe-runtime interpret RUN`
#include "runtime/look/interpret.h"
#include "cli/runtime/command.h"

namespace pipelang::cli::runtime {

namespace {

int interpret(int argc, char** argv) {
    CLI::App app{"Saves a finished run's confusion matrix and the items with the highest loss on a split."};
    app.name("pipe interpret");
    pipelang::runtime::InterpretOptions options;
    app.add_option("run", options.run, "a run directory written by `pipe run`")->required();
    app.add_option("--split", options.split, "valid or test (default: valid)");
    app.add_option("--stage", options.stage, "the train stage whose model is judged (default: the last)");
    app.add_option("--top", options.top, "items with the highest loss (default: 9)")->check(CLI::PositiveNumber);
    if (int code = parse(app, argc, argv); code >= 0) return code;
    return pipelang::runtime::interpret(options);
}

const Commands::Add kInterpret{"interpret", interpret};

}  // namespace

}  // namespace pipelang::cli::runtime
