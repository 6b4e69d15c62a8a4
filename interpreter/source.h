// Source files and positions. A Span is a byte range in one file; line and
// column (1-based, columns in bytes) are derived from it when needed, so AST
// nodes stay small and every consumer (terminal, LSP) computes what it shows.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pipelang {

struct SourceFile {
    std::string name;  // as the user named it, for messages
    std::string text;
    std::vector<uint32_t> lineStarts;  // byte offset of each line

    SourceFile(std::string name, std::string text);
    // 1-based line and column of a byte offset.
    std::pair<int, int> position(uint32_t offset) const;
    std::string_view line(int line) const;  // without its newline
};

struct Span {
    const SourceFile* file = nullptr;
    uint32_t begin = 0;  // byte offsets, end exclusive
    uint32_t end = 0;

    bool valid() const { return file != nullptr; }
    int line() const { return file ? file->position(begin).first : 0; }
    int column() const { return file ? file->position(begin).second : 0; }
    int endLine() const { return file ? file->position(end > begin ? end - 1 : end).first : 0; }
    std::string_view text() const {
        return file ? std::string_view(file->text).substr(begin, end - begin) : std::string_view();
    }
    static Span cover(const Span& a, const Span& b);
};

// Owns every file read during one compilation, so spans stay valid.
class SourceManager {
public:
    const SourceFile& add(std::string name, std::string text);
    // Reads a file; returns nullptr when it cannot be read.
    const SourceFile* load(const std::string& path);
    const std::vector<std::unique_ptr<SourceFile>>& files() const { return files_; }

private:
    std::vector<std::unique_ptr<SourceFile>> files_;
};

}  // namespace pipelang
