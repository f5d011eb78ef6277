//! `alarm`: a CloudWatch alarm that notifies the stack's `AlarmTopic`, the macro the
//! monitoring template calls for each metric it watches (70 calls in the root project's five
//! environments, about 31,000 instructions each when interpreted).

use minijinja::value::{from_args, Kwargs, Rest, Value, ValueOrKwargs};
use minijinja::{Error, ErrorKind, State};

use super::super::functions::{json_text as tojson, variable};
use super::pairs;

/// `alarm(id, description, namespace, metric, dimensions, statistic, comparison, threshold,
/// periods=3, period=60, missing="notBreaching")`, its arguments bound as a macro binds them.
pub(super) fn alarm(state: &State, args: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let [id, description, namespace, metric, dimensions, statistic, comparison, threshold, periods, period, missing] =
        bind(
            args.into_values(),
            [
                ("id", None),
                ("description", None),
                ("namespace", None),
                ("metric", None),
                ("dimensions", None),
                ("statistic", None),
                ("comparison", None),
                ("threshold", None),
                ("periods", Some(Value::from(3))),
                ("period", Some(Value::from(60))),
                ("missing", Some(Value::from("notBreaching"))),
            ],
        )?;
    let prefix = variable(state, "resource_prefix")?;
    let mut out = format!(
        "  {id}:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n      AlarmName: {}\n      AlarmDescription: {}\n      Namespace: {namespace}\n      MetricName: {metric}\n      Dimensions:\n",
        tojson(&Value::from(format!("{prefix}-{id}")))?,
        tojson(&description)?,
    );
    for (name, value) in pairs(&dimensions)? {
        out += &format!("        - Name: {name}\n          Value: {value}\n");
    }
    out += &format!(
        "      Statistic: {statistic}\n      Period: {period}\n      EvaluationPeriods: {periods}\n      Threshold: {threshold}\n      ComparisonOperator: {comparison}\n      TreatMissingData: {missing}\n      AlarmActions:\n        - !Ref AlarmTopic\n      OKActions:\n        - !Ref AlarmTopic"
    );
    Ok(out)
}

/// A call's arguments bound to `parameters` (each name with its default) as a macro binds
/// them: in order, then by name. One left without a value, one too many, a name given
/// twice and a name the macro does not take are refused.
fn bind<const N: usize>(
    args: Vec<Value>,
    parameters: [(&str, Option<Value>); N],
) -> Result<[Value; N], Error> {
    let (positional, named) = from_args::<(&[Value], Kwargs)>(&args)?;
    if positional.len() > N {
        return Err(Error::new(
            ErrorKind::TooManyArguments,
            format!("takes at most {N} arguments, not {}", positional.len()),
        ));
    }
    let mut bound: [Option<Value>; N] = std::array::from_fn(|i| positional.get(i).cloned());
    for (slot, (name, default)) in bound.iter_mut().zip(parameters) {
        let given = match named.has(name) {
            true => Some(named.get::<Value>(name)?),
            false => None,
        };
        *slot = match (slot.take(), given) {
            (Some(_), Some(_)) => {
                return Err(Error::new(
                    ErrorKind::TooManyArguments,
                    format!("`{name}` is given twice"),
                ))
            }
            (value, given) => Some(value.or(given).or(default).ok_or_else(|| {
                Error::new(ErrorKind::MissingArgument, format!("`{name}` is missing"))
            })?),
        };
    }
    named.assert_all_used()?;
    Ok(bound.map(|value| value.unwrap_or_default()))
}
