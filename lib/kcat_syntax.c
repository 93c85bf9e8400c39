/*
 * The ksafe-kcat-syntax finding's rules: where kcat -F (and the file readers
 * of librdkafka-based tools) read a .properties line otherwise than Java's
 * rules do. kcat reads a line as key=value up to its LF, and nothing else:
 * what it reads otherwise is said, so that a file cannot mean one thing to
 * ksafe-lint and another to the client. The readers (config_properties.c,
 * config_check.c) ask these functions; eval_entries.c reports the answer.
 */
#include <string.h>

#include "ksafe_int.h"

const char ksafe_kcat__bom_syntax[] =
        "the file starts with a UTF-8 byte order mark, which kcat reads as part of this line "
        "(and then refuses it); save the file without the BOM";

const char *ksafe_kcat__comment_differs(bool bom, char first, bool long_line, bool lone_cr)
{
        if (bom)
                return ksafe_kcat__bom_syntax;
        if (first == '!')
                return "kcat does not read '!' as a comment: it reads this line as a property "
                       "(and exits); start comments with '#'";
        if (first != '#' || !(long_line || lone_cr))
                return NULL;
        /* kcat reads the rest of a long (or CR-split) comment as a line of
         * its own. */
        return long_line ? "this comment is longer than 511 bytes, and kcat reads its tail as a "
                           "property; split it"
                         : "a lone CR (not CRLF) ends this comment, and kcat reads what follows "
                           "as comment; end lines with LF or CRLF";
}

const char *ksafe_kcat__line_differs(const ksafe_kcat_line_t *l)
{
        if (l->lone_cr)
                return "a lone CR (not CRLF) splits its line here, and kcat reads lines up to "
                       "LF; write it as one key=value line";
        if (l->continued)
                return "it continues on the next line (a backslash at the end), which kcat "
                       "keeps as part of the value; write it as one key=value line";
        if (l->long_line)
                return "its line is longer than 511 bytes, which kcat reads as several lines; "
                       "shorten it";
        if (memchr(l->key, '\\', l->key_len))
                return "its key has a backslash escape, which kcat reads by rules of its own; "
                       "write the key without escapes";
        if (l->separator != '=' && l->separator != 0) /* no separator at all: not key=value */
                return "it separates key and value with ':' or a blank, and kcat needs '='; "
                       "write key=value";
        if (l->blank_around && l->separator == '=')
                return "it has blanks around '=', which kcat keeps in the key and value; "
                       "write key=value";
        if (l->eof_continuation)
                return "it ends with a backslash at the end of the file, which kcat keeps in "
                       "the value";
        return NULL;
}

const char *ksafe_kcat__name_differs(const char *name)
{
        if (strncmp(name, "topic.topic.", 12) == 0)
                return "kcat strips \"topic.\" twice and applies it, other clients refuse the "
                       "name";
        return NULL;
}

/* kcat -F strips "\\:" and "\\=" from a line, again and again from its start
 * ("Java configs" escape them): every run of backslashes just before a ':'
 * or '=' goes. Other backslashes stay (Windows paths). */
void ksafe_kcat__unescape(ksafe_buf_t *out, const char *s, size_t n)
{
        out->len = 0;
        ksafe_buf__append(out, "", 0);
        for (size_t i = 0; i < n;) {
                size_t run = 0;
                while (i + run < n && s[i + run] == '\\')
                        run++;
                if (run && i + run < n && (s[i + run] == ':' || s[i + run] == '=')) {
                        i += run; /* the run goes, the ':' or '=' stays */
                        continue;
                }
                ksafe_buf__append(out, s + i, run ? run : 1);
                i += run ? run : 1;
        }
}
