//! AWS ARNs: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, split on the first five `:`
//! only (the resource part may hold `:` and `/`).

/// A parsed ARN, borrowing from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    pub fn parse(s: &'a str) -> Option<Arn<'a>> {
        let mut it = s.splitn(6, ':');
        if it.next()? != "arn" {
            return None;
        }
        let arn = Arn {
            partition: it.next()?,
            service: it.next()?,
            region: it.next()?,
            account: it.next()?,
            resource: it.next()?,
        };
        (!arn.partition.is_empty() && !arn.service.is_empty() && !arn.resource.is_empty()).then_some(arn)
    }

    pub fn region(&self) -> Option<&'a str> {
        (!self.region.is_empty()).then_some(self.region)
    }

    pub fn account(&self) -> Option<&'a str> {
        (!self.account.is_empty()).then_some(self.account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shapes_aws_uses() {
        let a = Arn::parse("arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1").unwrap();
        assert_eq!((a.service, a.region, a.account, a.resource), ("ec2", "us-east-1", "123456789012", "vpc/vpc-1"));
        let s3 = Arn::parse("arn:aws:s3:::audit-demo-raw").unwrap();
        assert_eq!((s3.region(), s3.account(), s3.resource), (None, None, "audit-demo-raw"));
        let lg = Arn::parse("arn:aws:logs:us-east-1:1:log-group:/app/x:*").unwrap();
        assert_eq!(lg.resource, "log-group:/app/x:*");
        let iam = Arn::parse("arn:aws-us-gov:iam::1:role/service-role/x").unwrap();
        assert_eq!(iam.resource, "role/service-role/x");
        assert!(Arn::parse("vpc-1").is_none());
        assert!(Arn::parse("arn:aws:ec2").is_none());
    }
}
