# Picky warnings for our own targets (never for dependencies).
function(envup_warnings target)
	target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wstrict-prototypes
		-Wmissing-prototypes -Wformat=2 -Wno-unused-parameter -Wvla)
	if(ENVUP_WERROR)
		target_compile_options(${target} PRIVATE -Werror)
	endif()
endfunction()
