// Run directories for the tests, written by hand as `pipe run` leaves them
// (without training): the files `pipe plot` and `pipe compare` read.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "test_files.h"

namespace pipelang::testing {

namespace fs = std::filesystem;

inline const fs::path kFashion = PIPE_SOURCE_DIR "/examples/fashion.pipe";

inline const char* kMetrics =
    "epoch,train_loss,valid_loss,accuracy,error_rate,time\n"
    "0,1.570276,1.093973,0.772333,0.227667,9.61596\n"
    "1,0.979503,0.894324,0.842167,0.157833,9.81869\n"
    "2,0.875516,0.838497,0.868667,0.131333,9.5336\n";

class RunDirs : public ::testing::Test {
protected:
    fs::path root;

    void SetUp() override {
        root = fs::temp_directory_path() / ("pipe-record-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(root);
        fs::create_directories(root);
    }
    void TearDown() override { fs::remove_all(root); }

    static void write(const fs::path& file, const std::string& text) {
        fs::create_directories(file.parent_path());
        std::ofstream(file) << text;
    }

    // A run of examples/fashion.pipe as `pipe run` leaves it.
    fs::path makeRun(const std::string& name, const std::string& overrides = "", const std::string& metrics = kMetrics,
                     const std::string& lr = "") {
        fs::path dir = root / name;
        write(dir / "source.pipe", readFile(kFashion));
        write(dir / "source-path.txt", kFashion.string() + "\n");
        write(dir / "overrides.txt", overrides);
        write(dir / "plan.txt", "");
        if (!metrics.empty()) write(dir / "fit" / "metrics.csv", metrics);
        if (!lr.empty()) write(dir / "fit" / "lr.csv", lr);
        return dir;
    }
};

inline std::string lrCsv() {
    std::string text = "step,lr\n";
    for (int step = 0; step < 30; ++step) text += std::to_string(step) + "," + std::to_string(3e-3 * step / 30) + "\n";
    return text;
}

}  // namespace pipelang::testing
