// `pipe-runtime generate RUN`
#include "runtime/generate.h"
#include "cli/runtime/command.h"

namespace pipelang::cli::runtime {

namespace {

int generate(int argc, char** argv) {
    CLI::App app{"Samples text from a finished run's language model, one sample a line."};
    app.name("pipe generate");
    pipelang::runtime::GenerateOptions options;
    app.add_option("run", options.run, "a run directory written by `pipe run`")->required();
    app.add_option("--n", options.n, "samples (default: 5)")->check(CLI::PositiveNumber);
    app.add_option("--temperature", options.temperature,
                   "below 1 the likelier tokens, above 1 more variety; 0 always the likeliest (default: 1)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--prompt", options.prompt, "the text every sample starts with (default: none)");
    app.add_option("--length", options.length, "the most tokens per sample (default: 200)")->check(CLI::PositiveNumber);
    app.add_option("--seed", options.seed, "the same seed gives the same samples (default: 0)");
    app.add_option("--stage", options.stage, "the train stage whose model samples (default: the last language model)");
    if (int code = parse(app, argc, argv); code >= 0) return code;
    return pipelang::runtime::generate(options);
}

const Commands::Add kGenerate{"generate", generate};

}  // namespace

}  // namespace pipelang::cli::runtime
