#include "runtime/room.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "runtime/error.h"

namespace pipelang::runtime {

namespace fs = std::filesystem;

namespace {

std::string mebibytes(std::uintmax_t bytes) {
    return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB";
}

}  // namespace

void ensureRoom(const fs::path& dir, std::uintmax_t bytes, const char* what) {
    fs::path probe = dir / ".room.tmp";
    auto fail = [&](int error) {
        ::unlink(probe.c_str());
        throw RuntimeError("no room to write " + std::string(what) + " in `" + dir.string() + "`: reserving " +
                           mebibytes(bytes) + " failed (" + std::strerror(error) +
                           "); free some space, or choose another runs directory with --runs");
    };
    int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) fail(errno);
    int error = bytes > 0 ? ::posix_fallocate(fd, 0, off_t(bytes)) : 0;
    ::close(fd);
    if (error != 0) fail(error);
    ::unlink(probe.c_str());
}

std::uintmax_t stageRoom(std::uintmax_t parameterBytes) {
    return 13 * parameterBytes + (16u << 20);
}

}  // namespace pipelang::runtime
