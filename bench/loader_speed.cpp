// pipe-bench-loader: how fast a .pipe file's data block serves training
// batches, without a model: decoding and item transforms on the loader's
// worker threads, then the batch transforms. The first epoch is timed, so
// that every item is decoded (the in-memory cache serves later epochs).
//
//   pipe-bench-loader FILE [--workers N] [--threads N]
//
// Prints `items_per_s N`. bench/loader_speed.sh runs it against torchvision.
#include <torch/torch.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "interpreter/compile.h"
#include "runtime/data/dataset.h"
#include "runtime/error.h"

int main(int argc, char** argv) {
    using namespace pipelang;
    CLI::App app{"Times one epoch of a .pipe file's training loader"};
    std::string file;
    int64_t workers = 2, threads = 1;
    app.add_option("file", file, "the .pipe file")->required()->check(CLI::ExistingFile);
    app.add_option("--workers", workers, "loader worker threads");
    app.add_option("--threads", threads, "intra-op threads (the batch transforms)");
    CLI11_PARSE(app, argc, argv);
    torch::set_num_threads(int(threads));

    auto compilation = compileFile(file);
    if (!compilation->ok()) {
        std::fprintf(stderr, "%s does not check; run `pipe check %s`\n", file.c_str(), file.c_str());
        return 2;
    }
    const Section* data = nullptr;
    for (const auto& section : compilation->pipeline.sections)
        if (section.kind == "data" && !data) data = &section;
    if (!data) {
        std::fprintf(stderr, "%s has no data block\n", file.c_str());
        return 2;
    }
    try {
        auto prepared = runtime::prepareData(*data, std::filesystem::path(file).parent_path(), 1);
        const Value* batchSize = data->field("batch_size");
        auto loader = prepared->loader(runtime::Split::Train, batchSize ? batchSize->integer : 64, workers);
        auto start = std::chrono::steady_clock::now();
        loader->start(0);
        int64_t items = 0;
        while (auto batch = loader->next()) items += batch->size();
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("items_per_s %.1f\nitems %lld\n", double(items) / seconds, (long long)items);
    } catch (const runtime::RuntimeError& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
