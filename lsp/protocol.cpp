#include "lsp/protocol.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <istream>
#include <ostream>

namespace pipelang::lsp {

namespace {

// How many bytes the UTF-8 sequence led by `c` takes (1 for a stray byte).
size_t sequenceLength(unsigned char c) {
    return c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

// Bytes [begin, end) of a line, as UTF-16 code units.
int utf16Length(const std::string& text, uint32_t begin, uint32_t end) {
    int units = 0;
    for (uint32_t i = begin; i < end;) {
        size_t n = sequenceLength((unsigned char)text[i]);
        units += n == 4 ? 2 : 1;
        i += uint32_t(n);
    }
    return units;
}

uint32_t lineEnd(const SourceFile& file, size_t line) {
    uint32_t end = line + 1 < file.lineStarts.size() ? file.lineStarts[line + 1] - 1 : uint32_t(file.text.size());
    if (end > file.lineStarts[line] && file.text[end - 1] == '\r') --end;
    return end;
}

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

Position toPosition(const SourceFile& file, uint32_t offset) {
    offset = std::min<uint32_t>(offset, uint32_t(file.text.size()));
    auto it = std::upper_bound(file.lineStarts.begin(), file.lineStarts.end(), offset);
    size_t line = size_t(it - file.lineStarts.begin()) - 1;
    return {int(line), utf16Length(file.text, file.lineStarts[line], offset)};
}

uint32_t toOffset(const SourceFile& file, Position position) {
    if (position.line < 0) return 0;
    if (size_t(position.line) >= file.lineStarts.size()) return uint32_t(file.text.size());
    uint32_t i = file.lineStarts[position.line];
    uint32_t end = lineEnd(file, position.line);
    int units = 0;
    while (i < end && units < position.character) {
        size_t n = sequenceLength((unsigned char)file.text[i]);
        units += n == 4 ? 2 : 1;
        i = std::min<uint32_t>(end, i + uint32_t(n));
    }
    return i;
}

Position positionFrom(const json& j) {
    Position p;
    if (!j.is_object()) return p;
    if (auto it = j.find("line"); it != j.end() && it->is_number_integer()) p.line = it->get<int>();
    if (auto it = j.find("character"); it != j.end() && it->is_number_integer()) p.character = it->get<int>();
    return p;
}

json toJson(Position p) {
    return {{"line", p.line}, {"character", p.character}};
}

json rangeOf(const Span& span) {
    if (!span.valid()) return {{"start", toJson({0, 0})}, {"end", toJson({0, 1})}};
    return {{"start", toJson(toPosition(*span.file, span.begin))}, {"end", toJson(toPosition(*span.file, span.end))}};
}

std::string uriToPath(const std::string& uri) {
    const std::string scheme = "file://";
    if (uri.rfind(scheme, 0) != 0) return uri;
    std::string out;
    for (size_t i = scheme.size(); i < uri.size(); ++i) {
        if (uri[i] == '%' && i + 2 < uri.size() && hexValue(uri[i + 1]) >= 0 && hexValue(uri[i + 2]) >= 0) {
            out += char(hexValue(uri[i + 1]) * 16 + hexValue(uri[i + 2]));
            i += 2;
        } else {
            out += uri[i];
        }
    }
    return out;
}

std::string pathToUri(const std::string& path) {
    std::error_code ec;
    std::string absolute = std::filesystem::absolute(path, ec).lexically_normal().string();
    if (ec) absolute = path;
    std::string out = "file://";
    const char* hex = "0123456789ABCDEF";
    for (unsigned char c : absolute) {
        if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
            out += char(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::optional<std::string> readMessage(std::istream& in) {
    std::optional<size_t> length;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) {
            if (!length) return std::nullopt;  // a message without its length cannot be framed
            std::string body(*length, '\0');
            in.read(body.data(), std::streamsize(*length));
            if (size_t(in.gcount()) != *length) return std::nullopt;
            return body;
        }
        auto colon = line.find(':');
        if (colon == std::string::npos) return std::nullopt;
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        if (name != "content-length") continue;  // Content-Type and the like
        try {
            size_t used = 0;
            std::string value = line.substr(colon + 1);
            unsigned long long n = std::stoull(value, &used);
            if (n > (1ull << 30)) return std::nullopt;
            length = size_t(n);
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

void writeMessage(std::ostream& out, const std::string& body) {
    out << "Content-Length: " << body.size() << "\r\n\r\n" << body;
    out.flush();
}

}  // namespace pipelang::lsp
