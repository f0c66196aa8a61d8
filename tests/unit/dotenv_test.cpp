// .env parsing (core/config/dotenv.hpp) and the merged Environment (environment.hpp).
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/config/dotenv.hpp"
#include "core/config/environment.hpp"

namespace apiproxy {
namespace {

using Map = std::map<std::string, std::string, std::less<>>;

// Parses `text` under a fake process environment.
DotenvContents parse(std::string_view text, Map process = {}) {
  auto shared = std::make_shared<Map>(std::move(process));
  return parse_dotenv(text, [shared](std::string_view name) -> std::optional<std::string> {
    if (auto it = shared->find(name); it != shared->end()) return it->second;
    return std::nullopt;
  });
}

// The value of `key` (the last entry with that name), or nullopt.
std::optional<std::string> value_of(const DotenvContents& c, std::string_view key) {
  std::optional<std::string> out;
  for (const auto& [k, v] : c.entries)
    if (k == key) out = v;
  return out;
}

std::string problems_text(const DotenvContents& c) {
  std::string out;
  for (const auto& p : c.problems) out += std::to_string(p.line) + ": " + p.message + "\n";
  return out;
}

TEST(Dotenv, PlainKeyValue) {
  auto c = parse("A=1\nB=hello world\n");
  ASSERT_EQ(c.entries.size(), 2u);
  EXPECT_EQ(c.entries[0].first, "A");
  EXPECT_EQ(c.entries[0].second, "1");
  EXPECT_EQ(c.entries[1].first, "B");
  EXPECT_EQ(c.entries[1].second, "hello world");
  EXPECT_TRUE(c.problems.empty()) << problems_text(c);
}

TEST(Dotenv, NoTrailingNewline) {
  auto c = parse("A=1");
  ASSERT_EQ(c.entries.size(), 1u);
  EXPECT_EQ(c.entries[0].second, "1");
}

TEST(Dotenv, EntriesKeepFileOrder) {
  auto c = parse("Z=1\nA=2\nM=3\n");
  ASSERT_EQ(c.entries.size(), 3u);
  EXPECT_EQ(c.entries[0].first, "Z");
  EXPECT_EQ(c.entries[1].first, "A");
  EXPECT_EQ(c.entries[2].first, "M");
}

TEST(Dotenv, ExportPrefix) {
  auto c = parse("export A=1\nexport\tB=2\n  export C=3\n");
  EXPECT_EQ(value_of(c, "A"), "1");
  EXPECT_EQ(value_of(c, "B"), "2");
  EXPECT_EQ(value_of(c, "C"), "3");
  EXPECT_FALSE(value_of(c, "export A").has_value());
  EXPECT_TRUE(c.problems.empty()) << problems_text(c);
}

TEST(Dotenv, VariableNamedExportIsAVariable) {
  auto c = parse("export=1\nexporter=2\n");
  EXPECT_EQ(value_of(c, "export"), "1");
  EXPECT_EQ(value_of(c, "exporter"), "2");
}

TEST(Dotenv, SpacesAroundEquals) {
  auto c = parse("A = 1\nB=  two  \n");
  EXPECT_EQ(value_of(c, "A"), "1");
  EXPECT_EQ(value_of(c, "B"), "two");
}

TEST(Dotenv, FullLineComments) {
  auto c = parse("# a comment\n   # indented comment\nA=1\n#B=2\n");
  ASSERT_EQ(c.entries.size(), 1u);
  EXPECT_EQ(value_of(c, "A"), "1");
  EXPECT_FALSE(value_of(c, "B").has_value());
  EXPECT_TRUE(c.problems.empty()) << problems_text(c);
}

TEST(Dotenv, InlineCommentOnUnquotedValue) {
  auto c = parse("A=value # comment\nB=value\t# tab comment\nC=#notacomment\n");
  EXPECT_EQ(value_of(c, "A"), "value");
  EXPECT_EQ(value_of(c, "B"), "value");
  // A '#' that is not preceded by whitespace is part of the value...
  auto d = parse("URL=http://host/page#frag\n");
  EXPECT_EQ(value_of(d, "URL"), "http://host/page#frag");
  // ...but a value that starts with '#' is empty: the comment begins right after '='.
  EXPECT_EQ(value_of(c, "C"), "");
}

TEST(Dotenv, SingleQuotesAreLiteral) {
  auto c = parse("X=expanded\nA='$X ${X} # not a comment \\n'\n");
  EXPECT_EQ(value_of(c, "A"), "$X ${X} # not a comment \\n");
}

TEST(Dotenv, SingleQuotesKeepSurroundingSpacesInside) {
  auto c = parse("A='  padded  '\n");
  EXPECT_EQ(value_of(c, "A"), "  padded  ");
}

TEST(Dotenv, TextAfterClosingQuoteIsIgnored) {
  auto c = parse("A='one' # comment\nB=\"two\" # comment\n");
  EXPECT_EQ(value_of(c, "A"), "one");
  EXPECT_EQ(value_of(c, "B"), "two");
}

TEST(Dotenv, DoubleQuoteEscapes) {
  auto c = parse(R"(A="line1\nline2\ttab\\back\"quote")" "\n");
  EXPECT_EQ(value_of(c, "A"), "line1\nline2\ttab\\back\"quote");
}

TEST(Dotenv, DoubleQuotesKeepHash) {
  auto c = parse("A=\"value # not a comment\"\n");
  EXPECT_EQ(value_of(c, "A"), "value # not a comment");
}

TEST(Dotenv, DoubleQuotedMultiLineValue) {
  auto c = parse("KEY=\"-----BEGIN-----\nabc\n-----END-----\"\nNEXT=after\nBAD LINE\n");
  EXPECT_EQ(value_of(c, "KEY"), "-----BEGIN-----\nabc\n-----END-----");
  EXPECT_EQ(value_of(c, "NEXT"), "after");
  // Line numbers continue correctly after the multi-line value.
  ASSERT_EQ(c.problems.size(), 1u) << problems_text(c);
  EXPECT_EQ(c.problems[0].line, 5);
}

TEST(Dotenv, DoubleQuotesExpandVariables) {
  auto c = parse("HOST=example.com\nURL=\"https://${HOST}/v1\"\nLIT=\"\\$HOST\"\n");
  EXPECT_EQ(value_of(c, "URL"), "https://example.com/v1");
  EXPECT_EQ(value_of(c, "LIT"), "$HOST");
}

// "\\" is an escaped backslash; the "$V" after it must still expand.
TEST(Dotenv, EscapedBackslashBeforeDollarStillExpands) {
  auto c = parse("V=x\nA=\"C:\\\\$V\"\n");
  EXPECT_EQ(value_of(c, "A"), "C:\\x");
}

TEST(Dotenv, BraceExpansion) {
  auto c = parse("A=one\nB=${A}-two\n");
  EXPECT_EQ(value_of(c, "B"), "one-two");
}

TEST(Dotenv, DollarNameExpansion) {
  auto c = parse("A=one\nB=$A/two\nC=$A$A\n");
  EXPECT_EQ(value_of(c, "B"), "one/two");
  EXPECT_EQ(value_of(c, "C"), "oneone");
}

TEST(Dotenv, DefaultExpansion) {
  auto c = parse("EMPTY=\nA=${MISSING:-fallback}\nB=${EMPTY:-fb2}\nC=${SET:-unused}\nSET=x\n"
                 "D=${SET:-unused}\n");
  EXPECT_EQ(value_of(c, "A"), "fallback");
  EXPECT_EQ(value_of(c, "B"), "fb2");  // `:-` also covers set-but-empty
  EXPECT_EQ(value_of(c, "C"), "unused");  // SET is defined only later in the file
  EXPECT_EQ(value_of(c, "D"), "x");
}

TEST(Dotenv, UndefinedVariableExpandsToEmpty) {
  auto c = parse("A=pre-${NOPE}-$NOPE2-post\n");
  EXPECT_EQ(value_of(c, "A"), "pre---post");
}

TEST(Dotenv, DollarWithoutNameIsLiteral) {
  auto c = parse("A=cost$\nB=$1\nC=a$-b\n");
  EXPECT_EQ(value_of(c, "A"), "cost$");
  EXPECT_EQ(value_of(c, "B"), "$1");
  EXPECT_EQ(value_of(c, "C"), "a$-b");
}

TEST(Dotenv, ExpansionPrefersProcessEnvironment) {
  auto c = parse("HOST=file-host\nURL=http://${HOST}\nONLY_PROC=$PROC_ONLY\n",
                 {{"HOST", "proc-host"}, {"PROC_ONLY", "p"}});
  EXPECT_EQ(value_of(c, "URL"), "http://proc-host");
  EXPECT_EQ(value_of(c, "ONLY_PROC"), "p");
  EXPECT_EQ(value_of(c, "HOST"), "file-host");  // the entry itself is the file's text
}

TEST(Dotenv, ExpansionUsesEarlierEntriesOnly) {
  auto c = parse("A=$B\nB=b\n");
  EXPECT_EQ(value_of(c, "A"), "");
}

TEST(Dotenv, InvalidLinesReportedWithLineNumbersAndSkipped) {
  auto c = parse("A=1\nthis is not an assignment\nB=2\n1BAD=3\nBAD KEY=4\n=5\nC=3\n");
  EXPECT_EQ(value_of(c, "A"), "1");
  EXPECT_EQ(value_of(c, "B"), "2");
  EXPECT_EQ(value_of(c, "C"), "3");
  EXPECT_EQ(c.entries.size(), 3u);
  ASSERT_EQ(c.problems.size(), 4u) << problems_text(c);
  EXPECT_EQ(c.problems[0].line, 2);
  EXPECT_NE(c.problems[0].message.find("KEY=value"), std::string::npos);
  EXPECT_EQ(c.problems[1].line, 4);
  EXPECT_NE(c.problems[1].message.find("1BAD"), std::string::npos);
  EXPECT_EQ(c.problems[2].line, 5);
  EXPECT_NE(c.problems[2].message.find("BAD KEY"), std::string::npos);
  EXPECT_EQ(c.problems[3].line, 6);
}

TEST(Dotenv, UnterminatedSingleQuoteIsAProblemAndNextLineParses) {
  auto c = parse("A='oops\nB=2\n");
  EXPECT_FALSE(value_of(c, "A").has_value());
  EXPECT_EQ(value_of(c, "B"), "2");
  ASSERT_EQ(c.problems.size(), 1u) << problems_text(c);
  EXPECT_EQ(c.problems[0].line, 1);
  EXPECT_NE(c.problems[0].message.find("single quote"), std::string::npos);
}

TEST(Dotenv, UnterminatedDoubleQuoteIsReported) {
  auto c = parse("A=1\nB=\"oops\n");
  EXPECT_EQ(value_of(c, "A"), "1");
  EXPECT_FALSE(value_of(c, "B").has_value());
  ASSERT_EQ(c.problems.size(), 1u) << problems_text(c);
  EXPECT_EQ(c.problems[0].line, 2);
  EXPECT_NE(c.problems[0].message.find("double quote"), std::string::npos);
}

// One stray quote must cost only its own line, as with python-dotenv: the variables after
// it are still read.
TEST(Dotenv, UnterminatedDoubleQuoteDoesNotSwallowTheRestOfTheFile) {
  auto c = parse("A=1\nB=\"oops\nC=3\nD=4\n");
  EXPECT_EQ(value_of(c, "A"), "1");
  EXPECT_FALSE(value_of(c, "B").has_value());
  EXPECT_EQ(value_of(c, "C"), "3");
  EXPECT_EQ(value_of(c, "D"), "4");
  ASSERT_EQ(c.problems.size(), 1u) << problems_text(c);
  EXPECT_EQ(c.problems[0].line, 2);
}

TEST(Dotenv, CrlfLineEndingsDoNotLeakIntoValues) {
  auto c = parse("# comment\r\nA=1\r\nB='two'\r\nC=\"three\"\r\nexport D=four # c\r\nE=\r\n\r\nF=${A}\r\n");
  EXPECT_TRUE(c.problems.empty()) << problems_text(c);
  EXPECT_EQ(value_of(c, "A"), "1");
  EXPECT_EQ(value_of(c, "B"), "two");
  EXPECT_EQ(value_of(c, "C"), "three");
  EXPECT_EQ(value_of(c, "D"), "four");
  EXPECT_EQ(value_of(c, "E"), "");
  EXPECT_EQ(value_of(c, "F"), "1");
  for (const auto& [k, v] : c.entries) {
    EXPECT_EQ(k.find('\r'), std::string::npos) << k;
    EXPECT_EQ(v.find('\r'), std::string::npos) << k << "=" << v;
  }
}

// A multi-line double-quoted value written with CRLF endings (a PEM key edited on Windows)
// should read as the same value with LF endings, as python-dotenv (universal newlines) does.
TEST(Dotenv, CrlfInsideMultiLineDoubleQuotedValue) {
  auto c = parse("KEY=\"line1\r\nline2\"\r\nNEXT=x\r\n");
  EXPECT_EQ(value_of(c, "KEY"), "line1\nline2");
  EXPECT_EQ(value_of(c, "NEXT"), "x");
}

TEST(Dotenv, EmptyValues) {
  auto c = parse("A=\nB=''\nC=\"\"\nD= # only a comment\n");
  EXPECT_EQ(value_of(c, "A"), "");
  EXPECT_EQ(value_of(c, "B"), "");
  EXPECT_EQ(value_of(c, "C"), "");
  EXPECT_EQ(value_of(c, "D"), "");
  EXPECT_EQ(c.entries.size(), 4u);
  EXPECT_TRUE(c.problems.empty()) << problems_text(c);
}

TEST(Dotenv, EqualsInsideValue) {
  auto c = parse("A=b=c=d\nURL=https://h/p?x=1&y=2\nB='k=v'\n");
  EXPECT_EQ(value_of(c, "A"), "b=c=d");
  EXPECT_EQ(value_of(c, "URL"), "https://h/p?x=1&y=2");
  EXPECT_EQ(value_of(c, "B"), "k=v");
}

TEST(Dotenv, LaterEntryOverridesEarlierInEnvironment) {
  auto env = Environment::from_text("A=1\nA=2\n");
  EXPECT_EQ(env.get("A"), "2");
}

TEST(Dotenv, DottedAndDashedNamesAccepted) {
  auto c = parse("my.var=1\nmy-var=2\n_x=3\n");
  EXPECT_EQ(value_of(c, "my.var"), "1");
  EXPECT_EQ(value_of(c, "my-var"), "2");
  EXPECT_EQ(value_of(c, "_x"), "3");
  EXPECT_TRUE(c.problems.empty()) << problems_text(c);
}

// ---------------------------------------------------------------- Environment ----

TEST(Environment, FromTextProcessOverridesFile) {
  auto env = Environment::from_text("A=file\nB=file\n", {{"B", "process"}, {"C", "process"}});
  EXPECT_EQ(env.get("A"), "file");
  EXPECT_EQ(env.get("B"), "process");
  EXPECT_EQ(env.get("C"), "process");
  EXPECT_FALSE(env.get("D").has_value());
  EXPECT_EQ(env.source(), "<text>");
}

TEST(Environment, ProcessEmptyValueStillOverridesFile) {
  auto env = Environment::from_text("A=file\n", {{"A", ""}});
  EXPECT_EQ(env.get("A"), "");
  EXPECT_EQ(env.get_or("A", "fb"), "fb");
}

TEST(Environment, FromTextExpandsWithProcessValues) {
  auto env = Environment::from_text("URL=redis://${RHOST:-localhost}:6379/0\n", {{"RHOST", "redis"}});
  EXPECT_EQ(env.get("URL"), "redis://redis:6379/0");
  auto env2 = Environment::from_text("URL=redis://${RHOST:-localhost}:6379/0\n");
  EXPECT_EQ(env2.get("URL"), "redis://localhost:6379/0");
}

TEST(Environment, ProblemsAreKept) {
  auto env = Environment::from_text("A=1\nnonsense\n");
  ASSERT_EQ(env.problems().size(), 1u);
  EXPECT_EQ(env.problems()[0].line, 2);
}

TEST(Environment, GetOrOnEmptyAndUnset) {
  auto env = Environment::from_text("EMPTY=\nSET=v\n");
  EXPECT_EQ(env.get("EMPTY"), "");
  EXPECT_EQ(env.get_or("EMPTY", "fb"), "fb");
  EXPECT_EQ(env.get_or("UNSET", "fb"), "fb");
  EXPECT_EQ(env.get_or("SET", "fb"), "v");
}

TEST(Environment, WithPrefix) {
  auto env = Environment::from_text(
      "LLM_PROVIDER_a_NAME=A\nLLM_PROVIDER_a_KEY=k\nLLM_PROVIDER_ab_NAME=AB\nLLM_PROVIDERS=a\n"
      "LLM_PROVIDER_=empty\nOTHER=1\n",
      {{"LLM_PROVIDER_a_REGION", "proc"}});
  auto a = env.with_prefix("LLM_PROVIDER_a_");
  ASSERT_EQ(a.size(), 3u);
  // Map order: by full variable name.
  EXPECT_EQ(a[0], (std::pair<std::string, std::string>{"KEY", "k"}));
  EXPECT_EQ(a[1], (std::pair<std::string, std::string>{"NAME", "A"}));
  EXPECT_EQ(a[2], (std::pair<std::string, std::string>{"REGION", "proc"}));
  auto all = env.with_prefix("LLM_PROVIDER_");
  EXPECT_EQ(all.size(), 5u);  // a_NAME, a_KEY, a_REGION, ab_NAME and "" (LLM_PROVIDER_)
  EXPECT_TRUE(env.with_prefix("NOPE_").empty());
  EXPECT_EQ(env.with_prefix("").size(), 7u);
}

TEST(Environment, DefaultConstructedIsEmpty) {
  Environment env;
  EXPECT_FALSE(env.get("PATH").has_value());
  EXPECT_EQ(env.get_or("PATH", "x"), "x");
  EXPECT_TRUE(env.with_prefix("").empty());
}

TEST(Environment, ExplicitMaps) {
  Environment env({{"A", "f"}, {"B", "f"}}, {{"B", "p"}});
  EXPECT_EQ(env.get("A"), "f");
  EXPECT_EQ(env.get("B"), "p");
}

}  // namespace
}  // namespace apiproxy
