// `pipe fmt [--check] FILE...`: the one canonical layout. A file that does not
// parse is left alone; a file is only ever replaced whole (write, then rename).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/common.h"
#include "interpreter/format.h"
#include "interpreter/parse.h"

namespace pipelang::cli {

int fmt(const std::vector<std::string>& args) {
    CLI::App app{
        "Rewrite .pipe files in the one canonical layout; comments are kept and meaning never changes.\n"
        "With no file, or `-`, formats standard input to standard output."};
    std::vector<std::string> files;
    bool check = false;
    app.add_option("files", files, "the .pipe files to format in place");
    app.add_flag("--check", check, "change nothing; list the files that are not formatted and exit 1 if any");
    if (int code = parseArgs(app, "fmt", args); code >= 0) return code;
    if (files.empty()) files.push_back("-");

    int status = kOk;
    for (const auto& path : files) {
        SourceManager sources;
        const SourceFile* file = nullptr;
        if (path == "-") {
            std::ostringstream in;
            in << std::cin.rdbuf();
            file = &sources.add("<stdin>", in.str());
        } else {
            std::error_code ec;
            file = std::filesystem::is_regular_file(path, ec) ? sources.load(path) : nullptr;
            if (!file) {
                std::fprintf(stderr, "pipe fmt: cannot read `%s`\n", path.c_str());
                status = kBadInput;
                continue;
            }
        }
        pipelang::Diagnostics diags;
        ast::Module module = parse(*file, diags);
        if (diags.hasErrors()) {
            printDiagnostics(diags);
            std::fprintf(stderr, "pipe fmt: `%s` was not changed: it does not parse\n", file->name.c_str());
            status = kBadInput;
            continue;
        }
        std::string formatted = format(module);
        if (path == "-") {
            if (check) {
                if (formatted != file->text) {
                    std::printf("<stdin>\n");
                    if (status == kOk) status = kFailed;
                }
            } else {
                std::fputs(formatted.c_str(), stdout);
            }
            continue;
        }
        if (formatted == file->text) continue;
        if (check) {
            std::printf("%s\n", path.c_str());
            if (status == kOk) status = kFailed;
            continue;
        }
        if (!replaceFile(path, formatted)) {
            std::fprintf(stderr, "pipe fmt: cannot write `%s`; it was left as it was\n", path.c_str());
            status = kBadInput;
        }
    }
    return status;
}

}  // namespace pipelang::cli
