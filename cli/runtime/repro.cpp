// `pipe-runtime repro RUN`
#include "runtime/repro.h"
#include "cli/runtime/command.h"

namespace pipelang::cli::runtime {

namespace {

int repro(int argc, char** argv) {
    CLI::App app{"Runs a finished run again from its record.toml and says whether every weight and metric repeats."};
    app.name("pipe repro");
    pipelang::runtime::ReproOptions options;
    app.add_option("run", options.run, "a run directory written by `pipe run`")->required();
    if (int code = parse(app, argc, argv); code >= 0) return code;
    return pipelang::runtime::repro(options);
}

const Commands::Add kRepro{"repro", repro};

}  // namespace

}  // namespace pipelang::cli::runtime
