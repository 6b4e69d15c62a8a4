// An exclusive flock(2) on a file of a sweep directory, held while the
// object lives: the points of a sweep, in threads, processes or the tasks of
// a Slurm array on machines sharing the directory, take turns through it.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "record/run.h"

namespace pipelang::record {

class FileLock {
public:
    // Opens (creating) `file` for appending and waits for the lock.
    explicit FileLock(const std::filesystem::path& file)
        : file_(file), fd_(::open(file.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {
        if (fd_ < 0) throw RecordError("cannot open " + file.string() + ": " + std::strerror(errno));
        while (::flock(fd_, LOCK_EX) != 0)
            if (errno != EINTR) {
                int error = errno;
                ::close(fd_);
                throw RecordError("cannot lock " + file.string() + ": " + std::strerror(error));
            }
    }
    ~FileLock() { ::close(fd_); }  // closing releases the lock
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

    // The whole file.
    std::string read() const {
        std::string text;
        char buffer[4096];
        ::lseek(fd_, 0, SEEK_SET);
        for (ssize_t n; (n = ::read(fd_, buffer, sizeof buffer)) != 0;) {
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw RecordError("cannot read " + file_.string() + ": " + std::strerror(errno));
            text.append(buffer, size_t(n));
        }
        return text;
    }

    void append(const std::string& text) const {
        for (size_t done = 0; done < text.size();) {
            ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw RecordError("cannot write " + file_.string() + ": " + std::strerror(errno));
            done += size_t(n);
        }
    }

private:
    std::filesystem::path file_;
    int fd_;
};

}  // namespace pipelang::record
