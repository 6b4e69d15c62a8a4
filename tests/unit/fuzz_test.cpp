// Robustness: every example, mutated into many thousands of broken inputs
// (random bytes, dropped, duplicated and swapped tokens, truncation, brackets
// nested around the nesting limit and far past it), goes
// through the parser, the checker and the formatter. None may crash, hang or
// leak (CI runs this again under ASan and UBSan); each must answer with
// success or diagnostics; and whatever parses must format idempotently to a
// file that means the same.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "interpreter/compile.h"
#include "interpreter/format.h"
#include "interpreter/limits.h"
#include "interpreter/parse.h"
#include "test_files.h"

namespace pipelang {
namespace {

namespace fs = std::filesystem;

using testing::readFile;

// A rough tokenization, good enough to mutate at token boundaries: names,
// numbers, strings, comments, single punctuation, and the space between.
std::vector<std::string> roughTokens(const std::string& text) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < text.size()) {
        size_t j = i + 1;
        char c = text[i];
        if (std::isalnum((unsigned char)c) || c == '_' || c == '.') {
            while (j < text.size() && (std::isalnum((unsigned char)text[j]) || text[j] == '_' || text[j] == '.')) ++j;
        } else if (c == '"') {
            while (j < text.size() && text[j] != '"' && text[j] != '\n') j += text[j] == '\\' ? 2 : 1;
            j = std::min(j + 1, text.size());
        } else if (c == '#') {
            while (j < text.size() && text[j] != '\n') ++j;
        } else if (std::isspace((unsigned char)c)) {
            while (j < text.size() && std::isspace((unsigned char)text[j])) ++j;
        }
        out.push_back(text.substr(i, j - i));
        i = j;
    }
    return out;
}

std::string join(const std::vector<std::string>& tokens) {
    std::string out;
    for (const auto& t : tokens) out += t;
    return out;
}

std::string mutate(const std::string& text, std::mt19937& rng) {
    auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
    std::vector<std::string> tokens = roughTokens(text);
    std::string out;
    switch (pick(7)) {
    case 0: {  // random bytes, any value, at random places
        out = text;
        size_t n = 1 + pick(4);
        for (size_t k = 0; k < n && !out.empty(); ++k) out[pick(out.size())] = char(pick(256));
        return out;
    }
    case 1:  // drop tokens
        for (size_t n = 1 + pick(3); n > 0 && !tokens.empty(); --n)
            tokens.erase(tokens.begin() + long(pick(tokens.size())));
        return join(tokens);
    case 2:  // duplicate a token
        if (!tokens.empty()) {
            size_t at = pick(tokens.size());
            tokens.insert(tokens.begin() + long(at), tokens[at]);
        }
        return join(tokens);
    case 3:  // swap two tokens
        if (tokens.size() > 1) std::swap(tokens[pick(tokens.size())], tokens[pick(tokens.size())]);
        return join(tokens);
    case 4:  // truncate
        return text.substr(0, pick(text.size() + 1));
    case 5: {  // brackets nested around the limit or far past it, closed or not
        if (tokens.empty()) return text;
        const char* opens[] = {"[", "(", "f(", "{"};
        std::string open = opens[pick(4)], close = open == "[" ? "]" : open == "{" ? "}" : ")";
        size_t depth = pick(2) ? size_t(limits::kMaxNesting) - 2 + pick(5) : 1 + pick(5000);
        std::string nested;
        for (size_t k = 0; k < depth; ++k) nested += open;
        nested += tokens[pick(tokens.size())];
        if (pick(2))
            for (size_t k = 0; k < depth; ++k) nested += close;
        tokens.insert(tokens.begin() + long(pick(tokens.size())), nested);
        return join(tokens);
    }
    default: {  // insert a token from elsewhere in the file
        if (tokens.empty()) return text;
        tokens.insert(tokens.begin() + long(pick(tokens.size())), tokens[pick(tokens.size())]);
        return join(tokens);
    }
    }
}

TEST(Fuzz, MutatedExamplesNeverCrashAndFormatIdempotently) {
    std::vector<std::pair<std::string, std::string>> seeds;
    for (const auto& entry : fs::directory_iterator(fs::path(PIPE_SOURCE_DIR) / "examples"))
        if (entry.path().extension() == ".pipe") seeds.push_back({entry.path().string(), readFile(entry.path())});
    std::sort(seeds.begin(), seeds.end());
    ASSERT_FALSE(seeds.empty());

    std::mt19937 rng(20261122);
    const size_t kInputs = 10000;
    size_t parsed = 0, checked = 0, diagnosed = 0;
    for (size_t i = 0; i < kInputs; ++i) {
        const auto& [name, text] = seeds[i % seeds.size()];
        std::string input = mutate(text, rng);
        if (i % 2) input = mutate(input, rng);  // half get two mutations

        auto c = compileText(name, input);
        ASSERT_NE(c, nullptr);
        if (c->ok()) ++checked;
        for (const auto& d : c->diags.items()) {
            ASSERT_FALSE(d.message.empty()) << "an empty diagnostic for input " << i << ":\n" << input;
            if (d.span.valid()) {
                ASSERT_LE(d.span.end, d.span.file->text.size()) << "input " << i << ":\n" << input;
            }
        }
        if (c->diags.hasErrors()) {
            ++diagnosed;
            // A failure never goes unexplained: some error has a place or is a whole-file error.
            ASSERT_GT(c->diags.errorCount(), 0u);
        }

        SourceManager sources;
        Diagnostics diags;
        const SourceFile& file = sources.add(name, input);
        ast::Module module = parse(file, diags);
        if (diags.hasErrors()) continue;
        ++parsed;
        std::string once = format(module);
        SourceManager again;
        Diagnostics diags2;
        ast::Module reparsed = parse(again.add(name, once), diags2);
        ASSERT_FALSE(diags2.hasErrors()) << "formatted text does not parse, input " << i << ":\n"
                                         << input << "\nformatted:\n"
                                         << once << render(diags2);
        ASSERT_EQ(ast::dump(module), ast::dump(reparsed)) << "formatting changed the meaning of:\n" << input;
        ASSERT_EQ(format(reparsed), once) << "formatting is not idempotent on:\n" << input;
    }
    // The mutations must exercise both paths, or the test proves little.
    EXPECT_GT(parsed, kInputs / 20);
    EXPECT_GT(diagnosed, kInputs / 4);
    RecordProperty("parsed", int(parsed));
    RecordProperty("checked", int(checked));
}

}  // namespace
}  // namespace pipelang
