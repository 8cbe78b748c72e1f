/* Checks the exported symbols of the built sudo plugin and PAM module: each
 * must export exactly its entry points, and the symbol named on the Plugin
 * line of the shipped sudo.conf must be the one the plugin exports.
 *
 * Arguments: SUDO_JIT_SO PAM_JIT_SO SUDO_CONF. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <elf.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sudo_plugin.h>

#define MAX_EXPORTS 64

static char **test_argv;

struct exports {
	size_t count;
	char *names[MAX_EXPORTS];
};

static void exports_clear(struct exports *exports)
{
	for (size_t i = 0; i < exports->count; i++)
		free(exports->names[i]);
	exports->count = 0;
}

/* Maps the whole file read-only; the caller unmaps size bytes. */
static const uint8_t *map_file(const char *path, size_t *size)
{
	struct stat st;
	void *data;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("cannot open %s", path);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(st.st_size >= (off_t)sizeof(Elf64_Ehdr));

	data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	assert_true(data != MAP_FAILED);
	*size = (size_t)st.st_size;
	return data;
}

static const Elf64_Shdr *find_dynsym(const uint8_t *data, size_t size)
{
	const Elf64_Ehdr *header = (const Elf64_Ehdr *)(const void *)data;
	const Elf64_Shdr *sections;

	assert_memory_equal(header->e_ident, ELFMAG, SELFMAG);
	assert_int_equal(header->e_ident[EI_CLASS], ELFCLASS64);
	assert_int_equal(header->e_shentsize, sizeof(Elf64_Shdr));
	assert_true(header->e_shoff + (size_t)header->e_shnum * sizeof(Elf64_Shdr) <= size);

	sections = (const Elf64_Shdr *)(const void *)(data + header->e_shoff);
	for (size_t i = 0; i < header->e_shnum; i++)
		if (sections[i].sh_type == SHT_DYNSYM) {
			assert_true(sections[i].sh_link < header->e_shnum);
			return &sections[i];
		}
	fail_msg("no .dynsym section");
	return NULL;
}

/* Collects the defined, exported function and object symbols of the ELF
 * file's dynamic symbol table: the names another object can bind to. */
static void read_exports(const char *path, struct exports *exports)
{
	const Elf64_Ehdr *header;
	const Elf64_Shdr *dynsym, *strtab;
	const Elf64_Sym *symbols;
	const char *strings;
	const uint8_t *data;
	size_t size, count;

	exports->count = 0;
	data = map_file(path, &size);
	header = (const Elf64_Ehdr *)(const void *)data;
	dynsym = find_dynsym(data, size);
	if (dynsym == NULL)
		return;
	strtab = (const Elf64_Shdr *)(const void *)(data + header->e_shoff) +
		 dynsym->sh_link;
	assert_true(dynsym->sh_offset + dynsym->sh_size <= size);
	assert_true(strtab->sh_offset + strtab->sh_size <= size);

	symbols = (const Elf64_Sym *)(const void *)(data + dynsym->sh_offset);
	strings = (const char *)data + strtab->sh_offset;
	count = dynsym->sh_size / sizeof(Elf64_Sym);

	for (size_t i = 0; i < count; i++) {
		const Elf64_Sym *sym = &symbols[i];
		unsigned char bind = ELF64_ST_BIND(sym->st_info);
		unsigned char type = ELF64_ST_TYPE(sym->st_info);

		if (sym->st_shndx == SHN_UNDEF)
			continue;
		if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE)
			continue;
		if (ELF64_ST_VISIBILITY(sym->st_other) != STV_DEFAULT &&
		    ELF64_ST_VISIBILITY(sym->st_other) != STV_PROTECTED)
			continue;
		if (type != STT_FUNC && type != STT_OBJECT && type != STT_GNU_IFUNC &&
		    type != STT_TLS && type != STT_COMMON)
			continue;

		assert_true(sym->st_name < strtab->sh_size);
		assert_true(exports->count < MAX_EXPORTS);
		exports->names[exports->count] = strdup(strings + sym->st_name);
		assert_non_null(exports->names[exports->count]);
		exports->count++;
	}
	munmap((void *)(uintptr_t)data, size);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Asserts that path exports exactly the sorted names in expected. */
static void assert_exports_equal(const char *path, const char *const expected[],
				 size_t expected_count)
{
	struct exports exports;

	read_exports(path, &exports);
	qsort(exports.names, exports.count, sizeof(exports.names[0]),
	      compare_names);

	for (size_t i = 0; i < exports.count; i++)
		print_message("%s exports %s\n", path, exports.names[i]);
	assert_int_equal(exports.count, expected_count);
	for (size_t i = 0; i < expected_count; i++)
		assert_string_equal(exports.names[i], expected[i]);
	exports_clear(&exports);
}

static void sudo_plugin_exports_only_jit_policy(void **state)
{
	static const char *const expected[] = { "jit_policy" };

	(void)state;
	assert_exports_equal(test_argv[1], expected, 1);
}

static void pam_module_exports_only_account_and_session(void **state)
{
	/* Sorted, as assert_exports_equal compares sorted lists. */
	static const char *const expected[] = {
		"pam_sm_acct_mgmt",
		"pam_sm_close_session",
		"pam_sm_open_session",
	};

	(void)state;
	assert_exports_equal(test_argv[2], expected, 3);
}

/* Reads the first Plugin line of sudo.conf: "Plugin SYMBOL PATH [ARGS]".
 * symbol holds 128 bytes and file 512. */
static void read_plugin_line(const char *path, char symbol[128], char file[512])
{
	char line[1024];
	FILE *conf;
	bool found = false;

	conf = fopen(path, "re");
	if (conf == NULL)
		fail_msg("cannot open %s", path);

	while (!found && fgets(line, sizeof(line), conf) != NULL) {
		if (strncmp(line, "Plugin", 6) != 0 || (line[6] != ' ' && line[6] != '\t'))
			continue;
		assert_int_equal(sscanf(line, "Plugin %127s %511s", symbol, file), 2);
		found = true;
	}
	fclose(conf);
	assert_true(found);
}

static void sudo_conf_names_exported_symbol(void **state)
{
	const struct policy_plugin *policy;
	char symbol[128], file[512];
	const char *base;
	void *handle;

	(void)state;
	read_plugin_line(test_argv[3], symbol, file);

	base = strrchr(file, '/');
	base = base != NULL ? base + 1 : file;
	assert_string_equal(base, "sudo_jit.so");

	handle = dlopen(test_argv[1], RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL)
		fail_msg("dlopen %s: %s", test_argv[1], dlerror());

	policy = dlsym(handle, symbol);
	if (policy == NULL)
		fail_msg("sudo.conf names %s, which %s does not export", symbol,
			 test_argv[1]);
	assert_int_equal(policy->type, SUDO_POLICY_PLUGIN);
	assert_int_equal(SUDO_API_VERSION_GET_MAJOR(policy->version),
			 SUDO_API_VERSION_MAJOR);
	assert_non_null(policy->open);
	assert_non_null(policy->check_policy);
	dlclose(handle);
}

static void pam_module_loads_with_its_entry_points(void **state)
{
	static const char *const names[] = {
		"pam_sm_acct_mgmt", "pam_sm_open_session", "pam_sm_close_session",
	};
	void *handle;

	(void)state;
	handle = dlopen(test_argv[2], RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL)
		fail_msg("dlopen %s: %s", test_argv[2], dlerror());

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (dlsym(handle, names[i]) == NULL)
			fail_msg("%s does not export %s", test_argv[2], names[i]);
	/* The module's private copy of the library must stay private. */
	assert_null(dlsym(handle, "jit_check"));
	dlclose(handle);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sudo_plugin_exports_only_jit_policy),
		cmocka_unit_test(pam_module_exports_only_account_and_session),
		cmocka_unit_test(sudo_conf_names_exported_symbol),
		cmocka_unit_test(pam_module_loads_with_its_entry_points),
	};

	if (argc != 4) {
		fprintf(stderr, "usage: %s SUDO_JIT_SO PAM_JIT_SO SUDO_CONF\n", argv[0]);
		return 2;
	}
	test_argv = argv;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
