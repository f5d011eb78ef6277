# Sourced by scripts: makes ./.venv with the Python tools envc's tests and demo use
# (cfn-lint to validate templates, checkov to scan them for security findings, moto's server
# as a local CloudFormation/S3 emulator).
venv="$PWD/.venv"
wanted="cfn-lint==1.51.0 moto[server]==5.2.1 checkov==3.3.30"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.envc-tools" 2>/dev/null)" != "$wanted" ]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $wanted
    echo "$wanted" > "$venv/.envc-tools"
fi
