// Text that is not UTF-8 is refused where it is read, naming the file, the
// line and the byte, before a library deeper down refuses it without them.
#include <gtest/gtest.h>

#include "runtime/data/table.h"
#include "runtime/data/utf8.h"
#include "runtime/error.h"

namespace pipelang::runtime {
namespace {

constexpr size_t npos = std::string_view::npos;

TEST(Utf8, WellFormedTextPasses) {
    EXPECT_EQ(invalidUtf8At(""), npos);
    EXPECT_EQ(invalidUtf8At("plain ascii, 123"), npos);
    EXPECT_EQ(invalidUtf8At("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), npos);  // é € 😀
}

TEST(Utf8, FindsTheFirstBadByte) {
    EXPECT_EQ(invalidUtf8At("ab\xff"), 2u);            // never in UTF-8
    EXPECT_EQ(invalidUtf8At("a\xe9t\xc3\xa9"), 1u);    // Latin-1 é, then a good one
    EXPECT_EQ(invalidUtf8At("\xc0\xaf"), 0u);          // overlong '/'
    EXPECT_EQ(invalidUtf8At("x\xed\xa0\x80"), 1u);     // a UTF-16 surrogate
    EXPECT_EQ(invalidUtf8At("\xf4\x90\x80\x80"), 0u);  // past U+10FFFF
    EXPECT_EQ(invalidUtf8At("ok\xe2\x82"), 2u);        // cut short at the end
    EXPECT_EQ(invalidUtf8At("\xe2\x28\xa1"), 0u);      // a continuation byte missing
}

TEST(Utf8, CsvThatIsNotUtf8NamesItsFileAndLine) {
    std::string message;
    try {
        parseCsv("name,label\nx,shirt\ny,caf\xe9\n", "latin1.csv");
    } catch (const RuntimeError& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("`latin1.csv` line 3 is not valid UTF-8 (byte 0xE9)"), std::string::npos) << message;
    EXPECT_NE(message.find("iconv"), std::string::npos) << message;
}

}  // namespace
}  // namespace pipelang::runtime
