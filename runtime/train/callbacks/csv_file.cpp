#include "runtime/train/callbacks/csv_file.h"

namespace pipelang::runtime {

std::ofstream reopenCsv(const std::filesystem::path& path, int64_t rows, std::vector<std::string>& kept) {
    std::ifstream in(path);
    std::string text, line, header;
    std::getline(in, header);
    text = header + "\n";
    kept.push_back(header);
    for (int64_t i = 0; i < rows && std::getline(in, line); ++i) {
        text += line + "\n";
        kept.push_back(line);
    }
    in.close();
    std::ofstream(path, std::ios::trunc) << text;
    return std::ofstream(path, std::ios::app);
}

}  // namespace pipelang::runtime
