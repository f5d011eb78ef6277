" Drives `envc lsp` from Vim 9 through Vim's own LSP channel (`job_start` with
" `in_mode`/`out_mode` "lsp", no plugin), editing real buffers, and shows what an editor
" receives for a typo, a hover and a completion. Run in a copy of a project, with `envc` on
" the PATH:
"     vim -Nu NONE -i NONE -S scripts/try-lsp-in-vim.vim
" The report is written to the buffer shown at the end and to /tmp/envc-lsp-in-vim.txt.
set nomore hidden noswapfile
let s:root = getcwd()
let s:published = {}
func s:OnMessage(channel, message)
  if get(a:message, 'method', '') == 'textDocument/publishDiagnostics'
    let s:published[a:message.params.uri] = a:message.params.diagnostics
  endif
endfunc
let s:job = job_start(['envc', 'lsp'], #{in_mode: 'lsp', out_mode: 'lsp', err_io: 'null',
      \ out_cb: function('s:OnMessage')})
let s:channel = job_getchannel(s:job)
call ch_evalexpr(s:channel, #{method: 'initialize', params: #{processId: getpid(),
      \ rootUri: 'file://' . s:root, capabilities: {}}})
call ch_sendexpr(s:channel, #{method: 'initialized', params: {}})

func s:Uri()
  return 'file://' . s:root . '/' . expand('%')
endfunc
func s:Text()
  return join(getline(1, '$'), "\n") . "\n"
endfunc
func s:Open()
  call ch_sendexpr(s:channel, #{method: 'textDocument/didOpen', params: #{textDocument:
        \ #{uri: s:Uri(), languageId: 'kdl', version: 1, text: s:Text()}}})
endfunc
let s:version = 1
func s:Changed()
  let s:version += 1
  call ch_sendexpr(s:channel, #{method: 'textDocument/didChange', params: #{textDocument:
        \ #{uri: s:Uri(), version: s:version}, contentChanges: [#{text: s:Text()}]}})
endfunc
func s:Here()
  return #{textDocument: #{uri: s:Uri()}, position: #{line: line('.') - 1, character: col('.') - 1}}
endfunc

let s:report = []
" 1. A typo, typed into env/staging2.kdl and not saved.
edit env/staging2.kdl
call s:Open()
%s/^    cidr /    cidrr /
call s:Changed()
let s:waited = 0
while empty(get(s:published, s:Uri(), [])) && s:waited < 200
  sleep 50m
  let s:waited += 1
endwhile
call add(s:report, 'Typo in env/staging2.kdl (unsaved): `cidrr "10.2.0.0/16"`')
for d in get(s:published, s:Uri(), [])
  call add(s:report, printf('  %s line %d col %d  [%s] %s', ['', 'error', 'warning', 'info', 'hint'][d.severity],
        \ d.range.start.line + 1, d.range.start.character + 1, d.code, substitute(d.message, "\n", ' | ', 'g')))
endfor

" 2. A hover on `instance-class` in env/base.kdl.
edit env/base.kdl
call s:Open()
call search('instance-class')
let s:hover = ch_evalexpr(s:channel, #{method: 'textDocument/hover', params: s:Here()})
call add(s:report, '')
call add(s:report, 'Hover on `instance-class` in env/base.kdl (line ' . line('.') . '):')
for line in split(s:hover.result.contents.value, "\n")
  call add(s:report, '  ' . line)
endfor

" 3. A completion while typing `inst` in the database block.
call search('backup-days')
call append(line('.'), '    inst')
normal! j$
call s:Changed()
let s:position = s:Here()
let s:position.position.character += 1
let s:items = ch_evalexpr(s:channel, #{method: 'textDocument/completion', params: s:position})
call add(s:report, '')
call add(s:report, 'Completion after `    inst` in `database { }` of env/base.kdl:')
call add(s:report, '  ' . join(map(copy(s:items.result), {_, i -> i.label . ' (' . get(i, 'detail', '') . ')'}), ', '))

call ch_evalexpr(s:channel, #{method: 'shutdown'})
call ch_sendexpr(s:channel, #{method: 'exit'})
call writefile(s:report, '/tmp/envc-lsp-in-vim.txt')
enew!
call setline(1, s:report)
