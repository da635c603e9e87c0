fn main() {
    let c = hdl::blocks::Config::from_sets("requant", &["bits=8".to_string()]).unwrap();
    print!("{}", c.emit("itx_").unwrap().verilog);
}
