// A fixture whose tests all look at one run, trained once for the suite
// (training is the slow part). `Files` says what to train:
//   static constexpr const char* kName;              the scratch folder's prefix
//   static std::filesystem::path write(const TempDir&);   writes the data and
//                                                     the .pipe file, returns the file
// Tests read `run_` (the run directory) and `dir_` (the scratch folder).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/runtime/pipe_command.h"
#include "tests/runtime/temp_dir.h"

namespace pipelang::runtime {

template <class Files>
class TrainedOnce : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir(Files::kName);
        TrainedRun r = trainRun(Files::write(*dir_), *dir_ / "runs");
        ASSERT_EQ(r.result.status, 0) << r.result.output;
        run_ = r.dir;
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    inline static TempDir* dir_ = nullptr;
    inline static std::filesystem::path run_;
};

}  // namespace pipelang::runtime
