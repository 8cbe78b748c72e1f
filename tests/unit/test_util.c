#include "testlib.h"

#include <ctype.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void assert_items(const jit_strlist *list, const char *const *expected,
			 size_t count)
{
	assert_int_equal(list->count, count);
	for (size_t i = 0; i < count; i++)
		assert_string_equal(list->items[i], expected[i]);
}

static void test_split_trims_items(void **state)
{
	static const char *const expected[] = { "a", "b c", "d" };
	jit_strlist list = { 0 };

	(void)state;
	assert_int_equal(jit_strlist_split(&list, " a ,\tb c\t,d"), JIT_OK);
	assert_items(&list, expected, 3);
	jit_strlist_clear(&list);
}

static void test_split_drops_empty_items(void **state)
{
	static const char *const expected[] = { "x", "y" };
	jit_strlist list = { 0 };

	(void)state;
	assert_int_equal(jit_strlist_split(&list, ",, x,  , y,"), JIT_OK);
	assert_items(&list, expected, 2);
	jit_strlist_clear(&list);
}

static void test_split_empty_text(void **state)
{
	jit_strlist list = { 0 };

	(void)state;
	assert_int_equal(jit_strlist_split(&list, ""), JIT_OK);
	assert_int_equal(list.count, 0);
	assert_int_equal(jit_strlist_split(&list, "   "), JIT_OK);
	assert_int_equal(list.count, 0);
	assert_int_equal(jit_strlist_split(&list, " , ,"), JIT_OK);
	assert_int_equal(list.count, 0);
	jit_strlist_clear(&list);
}

static void test_split_appends(void **state)
{
	static const char *const expected[] = { "a", "b", "c" };
	jit_strlist list = { 0 };

	(void)state;
	assert_int_equal(jit_strlist_split(&list, "a"), JIT_OK);
	assert_int_equal(jit_strlist_split(&list, "b,c"), JIT_OK);
	assert_items(&list, expected, 3);
	jit_strlist_clear(&list);
}

static void test_split_keeps_non_ascii_bytes(void **state)
{
	static const char *const expected[] = { "\xa0x\xa0" };
	jit_strlist list = { 0 };

	(void)state;
	/* 0xA0 is a no-break space in Latin-1 locales, not a blank. */
	assert_int_equal(jit_strlist_split(&list, " \xa0x\xa0 "), JIT_OK);
	assert_items(&list, expected, 1);
	jit_strlist_clear(&list);
}

static void test_contains(void **state)
{
	jit_strlist list = { 0 };

	(void)state;
	assert_false(jit_strlist_contains(&list, "a"));
	assert_int_equal(jit_strlist_append(&list, "alpha"), JIT_OK);
	assert_int_equal(jit_strlist_append(&list, "beta"), JIT_OK);
	assert_true(jit_strlist_contains(&list, "alpha"));
	assert_true(jit_strlist_contains(&list, "beta"));
	assert_false(jit_strlist_contains(&list, "alph"));
	assert_false(jit_strlist_contains(&list, "Alpha"));
	assert_false(jit_strlist_contains(&list, ""));
	jit_strlist_clear(&list);
}

static void test_append_copies(void **state)
{
	jit_strlist list = { 0 };
	char item[] = "value";

	(void)state;
	assert_int_equal(jit_strlist_append(&list, item), JIT_OK);
	item[0] = 'X';
	assert_string_equal(list.items[0], "value");
	jit_strlist_clear(&list);
}

static void test_clear_resets_and_accepts_null(void **state)
{
	jit_strlist list = { 0 };

	(void)state;
	assert_int_equal(jit_strlist_append(&list, "a"), JIT_OK);
	jit_strlist_clear(&list);
	assert_int_equal(list.count, 0);
	assert_null(list.items);
	jit_strlist_clear(&list);
	jit_strlist_clear(NULL);
}

static void test_valid_names(void **state)
{
	static const char *const valid[] = {
		"root", "a", "www-data", "db_admin", "user.name", "A1",
		"_apt", "x2-", "abcdefghijabcdefghijabcdefghij12", "ALL",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		if (!jit_valid_name(valid[i]))
			fail_msg("'%s' should be a valid name", valid[i]);
	}
}

static void test_invalid_names(void **state)
{
	static const char *const invalid[] = {
		"", "-rf", "a b", "a:b", "a/b", "%group", "a,b", "a\n",
		"abcdefghijabcdefghijabcdefghij123", ".", "..", "t\xc3\xa9st",
		"a\tb", "name;", "$(id)",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		if (jit_valid_name(invalid[i]))
			fail_msg("'%s' should be an invalid name", invalid[i]);
	}
}

/* Switches to a Latin-1 locale, compiling one into a test folder with
 * localedef when none is installed. Returns the folder to remove, or NULL,
 * and skips the test when no such locale can be had. */
static char *use_latin1_locale(void)
{
	char *dir = NULL, *command = NULL;

	if (setlocale(LC_ALL, "de_DE.ISO-8859-1") != NULL)
		return NULL;

	dir = test_mkdtemp();
	assert_true(asprintf(&command,
			     "localedef -i de_DE -f ISO-8859-1 %s/de_DE.ISO-8859-1 >/dev/null 2>&1",
			     dir) > 0);
	if (system(command) == 0) {
		setenv("LOCPATH", dir, 1);
		if (setlocale(LC_ALL, "de_DE.ISO-8859-1") != NULL) {
			free(command);
			return dir;
		}
	}

	free(command);
	test_rmtree(dir);
	free(dir);
	skip();
	return NULL;
}

static void test_valid_name_ignores_locale(void **state)
{
	char *dir;
	bool letter;

	(void)state;
	dir = use_latin1_locale();

	/* In Latin-1, 0xE4 is a letter to isalnum(). */
	letter = isalnum(0xe4) != 0;
	assert_false(jit_valid_name("m\xe4x"));

	setlocale(LC_ALL, "C");
	unsetenv("LOCPATH");
	test_rmtree(dir);
	free(dir);
	assert_true(letter);
}

static void test_error_set_and_clear(void **state)
{
	jit_error error;

	(void)state;
	assert_int_equal(jit_error_set(&error, JIT_ERR_CONFIG, "bad %s", "x"),
			 JIT_ERR_CONFIG);
	assert_int_equal(error.code, JIT_ERR_CONFIG);
	assert_string_equal(error.message, "bad x");
	jit_error_clear(&error);
	assert_int_equal(error.code, JIT_OK);
	assert_string_equal(error.message, "");
	assert_int_equal(jit_error_set(NULL, JIT_ERR_IO, "ignored"), JIT_ERR_IO);
}

static void test_error_message_has_no_controls(void **state)
{
	jit_error error;

	(void)state;
	jit_error_set(&error, JIT_ERR_INVALID, "invalid duration '%s'",
		      "1h\x1b[2J\nroot\x7f");
	assert_string_equal(error.message, "invalid duration '1h?[2J?root?'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_message_has_no_controls),
		cmocka_unit_test(test_split_trims_items),
		cmocka_unit_test(test_split_drops_empty_items),
		cmocka_unit_test(test_split_empty_text),
		cmocka_unit_test(test_split_appends),
		cmocka_unit_test(test_split_keeps_non_ascii_bytes),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_append_copies),
		cmocka_unit_test(test_clear_resets_and_accepts_null),
		cmocka_unit_test(test_valid_names),
		cmocka_unit_test(test_invalid_names),
		cmocka_unit_test(test_valid_name_ignores_locale),
		cmocka_unit_test(test_error_set_and_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
